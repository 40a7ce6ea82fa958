/**
 * Which measurements bench:train runs and how each is started. One row of the table per
 * measurement; the rows of one model take turns (bench/lib/turns.ts), never two at once.
 */
import { fileURLToPath } from 'node:url';
import { tsxCommand } from '../lib/child.js';
import { requestArgs, type BenchBackend, type BenchModel, type MeasureRequest } from './measurement.js';

/** The interpreter of Debian's python3-torch (a pyenv `python3` on PATH lacks torch). */
export const TORCH_PYTHON = '/usr/bin/python3';

export type Implementation = 'dptrain' | 'tfjs-dptrain-kernels' | 'tfjs-stock' | 'torch';

export const IMPLEMENTATION_LABELS: Record<Implementation, string> = {
  dptrain: 'dptrain train (reference trainer)',
  'tfjs-dptrain-kernels': 'plain tfjs minimize, dptrain wasm kernels',
  'tfjs-stock': 'plain tfjs minimize, stock kernels',
  torch: 'PyTorch, 1 thread',
};

export interface PlannedRow {
  readonly implementation: Implementation;
  readonly request: MeasureRequest;
  /** The table's backend cell: the TensorFlow.js backend, or `torch cpu`. */
  readonly backendLabel: string;
  readonly command: string;
  readonly args: readonly string[];
}

export interface PlanOptions {
  readonly models: readonly BenchModel[];
  readonly backends: readonly BenchBackend[];
  /** Timed steps per round, per model and backend; PyTorch rows take the model's wasm count. */
  readonly steps: StepCounts;
  /** Timed rounds of every row (interleaved with the other rows of the same model). */
  readonly rounds: number;
  readonly warmup: number;
  readonly batchSize: number;
  /** dptrain's second row: the default micro-batch (several per step). */
  readonly microBatchSize: number;
  /** Run the CNN on the cpu backend too (≈ 30 samples/s: minutes per row). */
  readonly cpuCnn: boolean;
  readonly torch: boolean;
  readonly seed: number;
}

export type StepCounts = Readonly<Record<BenchModel, Readonly<Record<BenchBackend, number>>>>;

/**
 * Timed steps per round, sized for rounds of about 1–5 s on a 2-core machine (measured, batch 64:
 * MLP wasm 2,000–9,000 samples/s, cpu 350–550; CNN wasm 200–1,000, cpu ≈ 30): shorter rounds
 * were dominated by other processes' bursts.
 */
export const DEFAULT_STEPS: StepCounts = { mlp: { wasm: 100, cpu: 10 }, cnn: { wasm: 16, cpu: 2 } };

/** `mlp 300 wasm / 40 cpu, cnn …` for help and headers. */
export function describeSteps(steps: StepCounts): string {
  return Object.entries(steps)
    .map(([model, perBackend]) => `${model} ${Object.entries(perBackend).map(([b, n]) => `${n} ${b}`).join(' / ')}`)
    .join(', ');
}

const here = (file: string): string => fileURLToPath(new URL(file, import.meta.url));

/**
 * The plain TensorFlow.js row that dptrain is compared with on `backend`: on wasm the loop with
 * dptrain's kernels, so that the ratio measures the trainer and not the kernels (stock tfjs has
 * no wasm `Conv2DBackpropFilter`); on cpu dptrain registers no kernels, so stock is the same thing.
 */
export function baselineOf(backend: BenchBackend): Implementation {
  return backend === 'wasm' ? 'tfjs-dptrain-kernels' : 'tfjs-stock';
}

/** The rows, model by model: per backend dptrain (micro-batch = batch, then the default) and plain tfjs; then PyTorch. */
export function planRows(options: PlanOptions): PlannedRow[] {
  const rows: PlannedRow[] = [];
  for (const model of options.models) {
    const base = { model, batchSize: options.batchSize, warmup: options.warmup, rounds: options.rounds, takeTurns: true, seed: options.seed };
    for (const backend of options.backends) {
      if (backend === 'cpu' && model === 'cnn' && !options.cpuCnn) continue;
      const request = { ...base, backend, steps: options.steps[model][backend], microBatchSize: options.batchSize };
      const ts = (implementation: Implementation, file: string, req: MeasureRequest, extra: string[] = []): PlannedRow => {
        const { command, args } = tsxCommand(here(file), [...requestArgs(req), ...extra]);
        return { implementation, request: req, backendLabel: backend, command, args };
      };
      rows.push(ts('dptrain', './measure-dptrain.ts', request));
      if (options.microBatchSize !== options.batchSize) {
        rows.push(ts('dptrain', './measure-dptrain.ts', { ...request, microBatchSize: options.microBatchSize }));
      }
      if (backend === 'wasm') rows.push(ts('tfjs-dptrain-kernels', './measure-tfjs.ts', request, ['--kernels', 'dptrain']));
      rows.push(ts('tfjs-stock', './measure-tfjs.ts', request, ['--kernels', 'stock']));
    }
    if (options.torch) {
      const request = { ...base, backend: 'cpu' as const, steps: options.steps[model].wasm, microBatchSize: options.batchSize };
      rows.push({
        implementation: 'torch',
        request,
        backendLabel: 'torch cpu',
        command: TORCH_PYTHON,
        args: [here('./torch_train.py'), ...requestArgs(request)],
      });
    }
  }
  return rows;
}
