import { appendFile, lstat, readdir, readFile, rm, symlink, rename } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { parseConfig, type JobConfig } from '@dptrain/config';
import { makeDirectory, writeFileAtomic, writeSafetensors, type Tensor } from '@dptrain/safetensors';
import { withCode } from '@dptrain/errors';

/**
 * How a run claims its folder:
 * - `new`: the folder must be missing or empty (runs do not overwrite each other by accident);
 * - `force`: what an earlier run left there (isRunEntry) is removed first;
 * - `resume`: the folder must hold a run (its config.json) to continue;
 * - `continue`: resume when it holds a run, else start (a supervisor restarting a coordinator).
 */
export type RunFolderMode = 'new' | 'force' | 'resume' | 'continue';

/** What a run leaves in its folder; `--force` removes these (isRunEntry) and nothing else. */
export const RUN_ENTRIES = [
  'config.json',
  'metrics.jsonl',
  'metrics.prom',
  'faults.jsonl',
  'summary.json',
  'params.safetensors',
  'cluster.json',
  'checkpoints',
  'plots',
] as const;

/** Whether `name` in a run folder is something a run (or `dptrain plot` of it) left: each shard's and worker's `metrics-<name>.prom` too. */
export function isRunEntry(name: string): boolean {
  return (RUN_ENTRIES as readonly string[]).includes(name) || /^metrics-(ps|worker)-\d+\.prom$/.test(name);
}

/** A run folder that cannot be used as asked; the message names the folder and the fix. */
export class RunFolderError extends withCode('E_RUN_FOLDER') {}

/**
 * Checks (and with `force` clears) the folder a run is about to use, before anything loads.
 * @returns 'resumed' when there is an earlier run to continue, else 'fresh'
 * @throws RunFolderError when the folder is in use (`new`) or holds no run (`resume`)
 */
export async function claimRunFolder(dir: string, mode: RunFolderMode): Promise<'fresh' | 'resumed'> {
  const entries: string[] = await readdir(dir).catch((error: NodeJS.ErrnoException) => (error.code === 'ENOENT' ? [] : Promise.reject(error)));
  const holdsRun = entries.includes('config.json') || entries.includes('metrics.jsonl');
  if (mode === 'resume' && !entries.includes('config.json')) throw noRunIn(dir, entries);
  if (mode === 'resume' || (mode === 'continue' && holdsRun)) return 'resumed';
  if (mode === 'force') {
    for (const name of entries.filter(isRunEntry)) await rm(join(dir, name), { recursive: true, force: true });
    return 'fresh';
  }
  if (mode === 'new' && entries.length > 0) {
    const shown = entries.slice(0, 4).join(', ') + (entries.length > 4 ? ', …' : '');
    throw new RunFolderError(
      `${dir} is not empty (${shown}); give another --out (without one, every run gets a new folder), --resume ${dir} to continue the run in it, or --force to replace it`,
    );
  }
  return 'fresh';
}

function noRunIn(dir: string, entries: readonly string[]): RunFolderError {
  return new RunFolderError(
    `${dir} holds no run to resume (no config.json${entries.length === 0 ? '; the folder is empty or missing' : ''}); give the folder of a run that was stopped, or start a new run without --resume`,
  );
}

/**
 * The job of the run in `dir` (its config.json), for --resume.
 * @throws RunFolderError when there is none; ConfigError when it is not a valid job
 */
export async function readRunConfig(dir: string): Promise<JobConfig> {
  const text = await readFile(join(dir, 'config.json'), 'utf8').catch(async (error: NodeJS.ErrnoException) => {
    if (error.code !== 'ENOENT') throw error;
    throw noRunIn(dir, await readdir(dir).catch(() => []));
  });
  return parseConfig(JSON.parse(text), join(dir, 'config.json'));
}

/**
 * Points `runs/latest` at `dir` (a relative symbolic link) when `dir` is a folder of a `runs/`
 * folder (the default `runs/<time>-<model>`, or `--out runs/NAME`), so the newest run is always at
 * the same path. Elsewhere (`--out /tmp/x`) nothing is added beside the run. Leaves alone a
 * `latest` that is a real folder, and `dir` itself when it is named latest.
 */
export async function pointLatestAt(dir: string): Promise<void> {
  if (basename(dir) === 'latest' || basename(dirname(resolve(dir))) !== 'runs') return;
  const link = join(dirname(dir), 'latest');
  const existing = await lstat(link).catch(() => undefined);
  if (existing && !existing.isSymbolicLink()) return;
  const temp = `${link}.${process.pid}.tmp`;
  await symlink(basename(dir), temp);
  await rename(temp, link);
}

/** What every run leaves in `summary.json` (DESIGN.md, "Files a run leaves"). */
export interface RunSummary {
  readonly config: Record<string, unknown>;
  readonly backend: string;
  readonly steps: number;
  readonly epochs: number;
  readonly wallSeconds: number;
  readonly samplesPerSecond: number;
  readonly trainLoss: number;
  /** Fraction correct on the test split, 0–1. */
  readonly testAccuracy: number;
  readonly [extra: string]: unknown;
}

/**
 * The run folder: `metrics.jsonl` appended one JSON object per line as the run goes, then
 * `params.safetensors` and `summary.json` written atomically at the end.
 */
export class RunFolder {
  private constructor(readonly dir: string) {}

  /** A new run in `dir` (claimed first with claimRunFolder): its job in config.json, an empty metrics.jsonl. */
  static async create(dir: string, config: JobConfig): Promise<RunFolder> {
    await makeDirectory(dir);
    await writeFileAtomic(join(dir, 'config.json'), `${JSON.stringify(config, null, 2)}\n`);
    await writeFileAtomic(join(dir, 'metrics.jsonl'), '');
    await pointLatestAt(dir);
    return new RunFolder(dir);
  }

  /**
   * Opens the folder of an interrupted run to continue it: the JSON-lines files keep their whole
   * records, and a line torn by the crash is dropped (rewritten atomically) so appends stay valid.
   */
  static async reopen(dir: string): Promise<RunFolder> {
    await makeDirectory(dir);
    const folder = new RunFolder(dir);
    for (const name of ['metrics.jsonl', 'faults.jsonl']) {
      const records = await folder.readRecords(name);
      await writeFileAtomic(folder.path(name), records.map((r) => `${JSON.stringify(r)}\n`).join(''));
    }
    return folder;
  }

  /** Drops the records of a JSON-lines file past `step` (a run resumed from a checkpoint of that step logs them again). */
  async keepRecordsUpTo(name: string, step: number): Promise<void> {
    const kept = (await this.readRecords(name)).filter((r) => typeof (r as { step?: unknown }).step !== 'number' || (r as { step: number }).step <= step);
    await writeFileAtomic(this.path(name), kept.map((r) => `${JSON.stringify(r)}\n`).join(''));
  }

  /** The records of a JSON-lines file of the folder, in order; an unparsable line (torn by a crash) is skipped, a missing file is empty. */
  async readRecords(name: string): Promise<unknown[]> {
    const text = await readFile(this.path(name), 'utf8').catch((error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT') return '';
      throw error;
    });
    const records: unknown[] = [];
    for (const line of text.split('\n')) {
      if (line.trim() === '') continue;
      try {
        records.push(JSON.parse(line));
      } catch {
        // A line cut short by a crash mid-append.
      }
    }
    return records;
  }

  async appendRecord(name: string, record: object): Promise<void> {
    await appendFile(this.path(name), `${JSON.stringify(record)}\n`);
  }

  path(name: string): string {
    return join(this.dir, name);
  }

  /**
   * Appends a record to metrics.jsonl with `time`, the wall clock when it was written (ISO 8601,
   * UTC, milliseconds): steps carry no duration of their own, and a resumed run's records tell
   * when each part ran. Tests comparing two runs' records leave it out.
   */
  async appendMetrics(record: object): Promise<void> {
    await this.appendRecord('metrics.jsonl', { ...record, time: new Date().toISOString() });
  }

  async writeParams(tensors: Iterable<[string, Tensor]>, metadata: Record<string, string>): Promise<void> {
    await writeSafetensors(this.path('params.safetensors'), tensors, metadata);
  }

  async writeSummary(summary: RunSummary): Promise<void> {
    await writeFileAtomic(this.path('summary.json'), `${JSON.stringify(summary, null, 2)}\n`);
  }
}
