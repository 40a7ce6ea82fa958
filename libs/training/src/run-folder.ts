import { appendFile, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { makeDirectory, writeFileAtomic, writeSafetensors, type Tensor } from '@dptrain/safetensors';

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

  static async create(dir: string): Promise<RunFolder> {
    await makeDirectory(dir);
    await writeFileAtomic(join(dir, 'metrics.jsonl'), '');
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

  async appendMetrics(record: Record<string, unknown>): Promise<void> {
    await this.appendRecord('metrics.jsonl', record);
  }

  async writeParams(tensors: Iterable<[string, Tensor]>, metadata: Record<string, string>): Promise<void> {
    await writeSafetensors(this.path('params.safetensors'), tensors, metadata);
  }

  async writeSummary(summary: RunSummary): Promise<void> {
    await writeFileAtomic(this.path('summary.json'), `${JSON.stringify(summary, null, 2)}\n`);
  }
}
