import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { EvalRecord, LayerRecord, StepRecord } from '@dptrain/training';

export type { EvalRecord, LayerRecord, StepRecord };
export type MetricRecord = StepRecord | EvalRecord | LayerRecord;

/** A step record as the run folder writes it: with `time`, the wall clock when it was written (absent from old runs). */
export type TimedStep = StepRecord & { readonly time?: string };
export type TimedEval = EvalRecord & { readonly time?: string };

export interface Metrics {
  readonly steps: readonly TimedStep[];
  readonly evals: readonly TimedEval[];
  readonly layers: readonly LayerRecord[];
}

/** The fields of summary.json the experiments read; `train` writes the first block, `local` all. */
export interface Summary {
  readonly config: Record<string, unknown>;
  readonly backend: string;
  readonly steps: number;
  readonly wallSeconds: number;
  readonly samplesPerSecond: number;
  readonly trainLoss: number;
  readonly testAccuracy: number;
  readonly testLoss: number;
  readonly validationAccuracy?: number;
  readonly validationLoss?: number;
  readonly paramCount: number;
  readonly steadySamplesPerSecond?: number;
  readonly timingPerStepMs?: { computeMs: number; pullMs: number; pushMs: number; waitMs: number };
  readonly shards?: readonly ShardStatus[];
  readonly faults?: readonly unknown[];
}

export interface ShardStatus {
  readonly shard: number;
  readonly length: number;
  readonly accepted: number;
  readonly duplicate: number;
  readonly stale: number;
  readonly rejected: number;
  readonly pulls: number;
  readonly stalenessHistogram?: readonly number[];
  /** Wall milliseconds of the shard's live updates (absent from runs before it was counted). */
  readonly applyMs?: number;
  /** Bytes the shard received and sent over all its connections. */
  readonly bytesIn?: number;
  readonly bytesOut?: number;
}

export interface RunFolder {
  readonly summary: Summary;
  readonly metrics: Metrics;
}

/** Reads summary.json and metrics.jsonl of a finished run folder. */
export async function readRunFolder(dir: string): Promise<RunFolder> {
  const summary = JSON.parse(await readFile(join(dir, 'summary.json'), 'utf8')) as Summary;
  return { summary, metrics: parseMetrics(await readFile(join(dir, 'metrics.jsonl'), 'utf8')) };
}

/**
 * Splits metrics.jsonl into its record kinds, in file order; unknown kinds are skipped, and so is
 * an unfinished last line (a run still writing, or stopped mid-append).
 * @throws Error naming the line when a finished line is not JSON
 */
export function parseMetrics(text: string): Metrics {
  const steps: TimedStep[] = [];
  const evals: TimedEval[] = [];
  const layers: LayerRecord[] = [];
  const lines = text.split('\n');
  for (const [i, line] of lines.entries()) {
    if (line.trim() === '') continue;
    let record: MetricRecord;
    try {
      record = JSON.parse(line) as MetricRecord;
    } catch (error) {
      if (i === lines.length - 1) break;
      throw new Error(`line ${i + 1} of metrics.jsonl is not JSON (${(error as Error).message})`, { cause: error });
    }
    if (record.kind === 'step') steps.push(record);
    else if (record.kind === 'eval') evals.push(record);
    else if (record.kind === 'layers') layers.push(record);
  }
  return { steps, evals, layers };
}
