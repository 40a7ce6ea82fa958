/**
 * Ratios between rows and the targets. Every ratio is dptrain's (or a row's) samples per
 * second over the reference's, both measured in the same run; a row that failed gives no ratio.
 */
import type { ChildOutcome } from '../lib/child.js';
import type { RoundRates } from '../lib/stats.js';
import type { BenchBackend, BenchModel, StepTiming } from './measurement.js';
import { baselineOf, type Implementation, type PlannedRow } from './plan.js';

export interface MeasuredRow extends PlannedRow {
  readonly outcome: ChildOutcome<StepTiming>;
  /** Present when the outcome is ok. */
  readonly rates?: RoundRates;
}

/** Samples per second of a row: the median of its rounds. */
export function rateOf(row: MeasuredRow | undefined): number | undefined {
  return row?.rates?.median;
}

function find(rows: readonly MeasuredRow[], model: BenchModel, implementation: Implementation, backend?: BenchBackend, microBatchSize?: number): MeasuredRow | undefined {
  return rows.find(
    (r) =>
      r.request.model === model &&
      r.implementation === implementation &&
      (backend === undefined || r.request.backend === backend) &&
      (microBatchSize === undefined || r.request.microBatchSize === microBatchSize),
  );
}

function ratio(a: MeasuredRow | undefined, b: MeasuredRow | undefined): number | undefined {
  const [x, y] = [rateOf(a), rateOf(b)];
  return x === undefined || y === undefined ? undefined : x / y;
}

/** `row` against the plain TensorFlow.js baseline of its model and backend (undefined for PyTorch rows). */
export function ratioToTfjs(row: MeasuredRow, rows: readonly MeasuredRow[]): number | undefined {
  if (row.implementation === 'torch') return undefined;
  const backend = row.request.backend;
  return ratio(row, find(rows, row.request.model, baselineOf(backend), backend));
}

/** `row` against PyTorch on the same model. */
export function ratioToTorch(row: MeasuredRow, rows: readonly MeasuredRow[]): number | undefined {
  return ratio(row, find(rows, row.request.model, 'torch'));
}

export interface TargetCheck {
  readonly label: string;
  readonly threshold: number;
  /** dptrain with one micro-batch per step (the like-for-like row); undefined when a row is missing or failed. */
  readonly ratio?: number;
  /** The same with the default micro-batches, for information; the target is not judged on it. */
  readonly microBatchedRatio?: number;
  /** wasm only: the 64/64 row against plain tfjs with stock kernels (what a tfjs user gets), for information. */
  readonly stockRatio?: number;
  readonly status: 'PASS' | 'MISS' | 'n/a';
}

/** dptrain over plain tfjs ≥ 0.9 on every model and backend measured. */
export const TFJS_TARGET = 0.9;
/** dptrain on wasm over PyTorch (one thread). */
export const TORCH_TARGETS: Readonly<Record<BenchModel, number>> = { mlp: 0.8, cnn: 0.3 };

/**
 * The targets that apply to the rows measured. Each is judged on dptrain's row with micro-batch =
 * batch (one gradient computation per step, as the references do); the default micro-batch row's
 * ratio is reported beside it.
 */
export function checkTargets(rows: readonly MeasuredRow[], batchSize: number): TargetCheck[] {
  const checks: TargetCheck[] = [];
  const judge = (label: string, threshold: number, value?: number, microBatched?: number, stock?: number): TargetCheck => ({
    label,
    threshold,
    ...(value !== undefined ? { ratio: value } : {}),
    ...(microBatched !== undefined ? { microBatchedRatio: microBatched } : {}),
    ...(stock !== undefined ? { stockRatio: stock } : {}),
    status: value === undefined ? 'n/a' : value >= threshold ? 'PASS' : 'MISS',
  });
  const dptrainRows = rows.filter((r) => r.implementation === 'dptrain' && r.request.microBatchSize === batchSize);
  for (const row of dptrainRows) {
    const { model, backend } = row.request;
    const microBatched = rows.find((r) => r.implementation === 'dptrain' && r.request.model === model && r.request.backend === backend && r !== row);
    const stock = backend === 'wasm' ? ratio(row, find(rows, model, 'tfjs-stock', backend)) : undefined;
    checks.push(judge(`${model} ${backend}: dptrain ≥ ${TFJS_TARGET}× plain tfjs`, TFJS_TARGET, ratioToTfjs(row, rows), microBatched && ratioToTfjs(microBatched, rows), stock));
  }
  for (const row of dptrainRows.filter((r) => r.request.backend === 'wasm' && rows.some((t) => t.implementation === 'torch'))) {
    const { model } = row.request;
    const microBatched = rows.find((r) => r.implementation === 'dptrain' && r.request.model === model && r.request.backend === 'wasm' && r !== row);
    checks.push(judge(`${model} wasm: dptrain ≥ ${TORCH_TARGETS[model]}× PyTorch`, TORCH_TARGETS[model], ratioToTorch(row, rows), microBatched && ratioToTorch(microBatched, rows)));
  }
  return checks;
}
