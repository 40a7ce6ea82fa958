import { readFile, realpath, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { RunFolderError } from '@dptrain/training/run-folder';
import { parseMetrics, type TimedEval, type TimedStep } from '../common/run-folder.js';
import { runLabels } from './run-labels.js';

export type { TimedEval, TimedStep };

/** One run folder's records, for plotting next to others. */
export interface PlottedRun {
  /** Its folder's name, or the shortest path tail that tells it from the other runs. */
  readonly label: string;
  readonly dir: string;
  readonly steps: readonly TimedStep[];
  readonly evals: readonly TimedEval[];
  /** Samples per step (the job's batchSize), when config.json or summary.json tells it. */
  readonly batchSize: number | undefined;
}

const FIX = 'give the folder of a run (the --out of dptrain train or local, e.g. runs/latest)';

async function readText(path: string): Promise<string | undefined> {
  return readFile(path, 'utf8').catch((error: NodeJS.ErrnoException) => (error.code === 'ENOENT' ? undefined : Promise.reject(error)));
}

function batchSizeIn(text: string | undefined, pick: (json: Record<string, unknown>) => unknown): number | undefined {
  if (text === undefined) return undefined;
  try {
    const value = pick(JSON.parse(text) as Record<string, unknown>);
    return typeof value === 'number' && value > 0 ? value : undefined;
  } catch {
    return undefined;
  }
}

async function openRun(dir: string, label: string): Promise<PlottedRun> {
  const metrics = await readText(join(dir, 'metrics.jsonl'));
  const config = await readText(join(dir, 'config.json'));
  if (metrics === undefined && config === undefined) throw new RunFolderError(`${dir} is not a run folder (no metrics.jsonl, no config.json); ${FIX}`);
  let parsed;
  try {
    parsed = parseMetrics(metrics ?? '');
  } catch (error) {
    throw new RunFolderError(`${join(dir, 'metrics.jsonl')}: ${(error as Error).message}; the file is damaged: plot another run, or run this one again`);
  }
  if (parsed.steps.length === 0)
    throw new RunFolderError(`${dir} has no metrics yet (no step in metrics.jsonl): the run has not finished a step; plot it once it has trained`);
  const batchSize =
    batchSizeIn(config, (c) => c.batchSize) ??
    batchSizeIn(await readText(join(dir, 'summary.json')), (s) => (s.config as Record<string, unknown> | undefined)?.batchSize);
  return { label, dir, steps: parsed.steps, evals: parsed.evals, batchSize };
}

/**
 * Reads the run folders to plot, each once, in the order given.
 * @throws RunFolderError naming the folder and the fix when one is missing, is not a run, or has no step yet
 */
export async function openRuns(dirs: readonly string[]): Promise<PlottedRun[]> {
  const real: string[] = [];
  for (const dir of dirs) {
    const info = await stat(dir).catch(() => undefined);
    if (!info) throw new RunFolderError(`${dir} does not exist; ${FIX}`);
    if (!info.isDirectory()) throw new RunFolderError(`${dir} is a file, not a run folder; ${FIX}`);
    const path = await realpath(dir);
    const twice = real.indexOf(path);
    if (twice >= 0) throw new RunFolderError(`${dir} is the run ${dirs[twice]} again; give each run once`);
    real.push(path);
  }
  const labels = runLabels(real);
  return Promise.all(dirs.map((dir, i) => openRun(dir, labels[i]!)));
}
