import { appendFile, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomic, writeSafetensors, type Tensor } from '@dptrain/safetensors';

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
    await mkdir(dir, { recursive: true });
    await writeFileAtomic(join(dir, 'metrics.jsonl'), '');
    return new RunFolder(dir);
  }

  path(name: string): string {
    return join(this.dir, name);
  }

  async appendMetrics(record: Record<string, unknown>): Promise<void> {
    await appendFile(this.path('metrics.jsonl'), `${JSON.stringify(record)}\n`);
  }

  async writeParams(tensors: Iterable<[string, Tensor]>, metadata: Record<string, string>): Promise<void> {
    await writeSafetensors(this.path('params.safetensors'), tensors, metadata);
  }

  async writeSummary(summary: RunSummary): Promise<void> {
    await writeFileAtomic(this.path('summary.json'), `${JSON.stringify(summary, null, 2)}\n`);
  }
}
