/**
 * What the parent asks a measurement child for, and what the child reports back. Every
 * implementation (dptrain, plain TensorFlow.js, PyTorch) answers with the same shape, so one
 * piece of code turns timestamps into samples per second for all of them.
 */
import { flagHelp, parseFlags, type FlagSpec, type FlagValues } from '../lib/args.js';

export const MODELS = ['mlp', 'cnn'] as const;
export type BenchModel = (typeof MODELS)[number];
export const BACKENDS = ['wasm', 'cpu'] as const;
export type BenchBackend = (typeof BACKENDS)[number];

export interface MeasureRequest {
  readonly model: BenchModel;
  /** TensorFlow.js backend; the PyTorch child ignores it (CPU). */
  readonly backend: BenchBackend;
  /** Samples per optimizer step. */
  readonly batchSize: number;
  /** dptrain only: samples per micro-batch (one gradient computation). */
  readonly microBatchSize: number;
  /** Steps run before timing starts (JIT, kernel setup, allocator warm-up). */
  readonly warmup: number;
  /** Steps timed after the warm-up. */
  readonly steps: number;
  readonly seed: number;
}

export interface StepTiming {
  /** Trainable values of the model as this implementation built it. */
  readonly paramCount: number;
  /** marksMs[0]: end of the warm-up; marksMs[i]: end of timed step i (ms, monotonic clock). */
  readonly marksMs: readonly number[];
  /** Samples per step, as the implementation ran it. */
  readonly batchSize: number;
  /** Anything the reader of the table should know about this row (a library version, a leak). */
  readonly notes?: readonly string[];
}

const REQUEST_FLAGS = {
  model: { kind: 'list', help: 'model', default: ['mlp'], choices: MODELS },
  backend: { kind: 'list', help: 'TensorFlow.js backend', default: ['wasm'], choices: BACKENDS },
  'batch-size': { kind: 'int', help: 'samples per step', default: 64 },
  'micro-batch-size': { kind: 'int', help: 'samples per micro-batch', default: 64 },
  warmup: { kind: 'int', help: 'untimed steps', default: 5 },
  steps: { kind: 'int', help: 'timed steps', default: 20 },
  seed: { kind: 'int', help: 'seed', default: 1 },
} satisfies Record<string, FlagSpec>;

/** The child's command-line arguments for `request` (the same flags for every child, Python too). */
export function requestArgs(request: MeasureRequest): string[] {
  return [
    '--model', request.model,
    '--backend', request.backend,
    '--batch-size', String(request.batchSize),
    '--micro-batch-size', String(request.microBatchSize),
    '--warmup', String(request.warmup),
    '--steps', String(request.steps),
    '--seed', String(request.seed),
  ];
}

/**
 * Reads a request from a child's argv (the inverse of {@link requestArgs}), plus the child's own
 * `extra` flags.
 * @throws {RangeError} an unknown flag or a bad value.
 */
export function parseRequest<E extends Record<string, FlagSpec> = Record<never, FlagSpec>>(
  argv: readonly string[],
  extra: E = {} as E,
): { request: MeasureRequest; extra: FlagValues<E> } {
  const specs = { ...REQUEST_FLAGS, ...extra };
  const f = parseFlags(argv, specs) as FlagValues<typeof REQUEST_FLAGS> & FlagValues<E>;
  if (f.model.length !== 1 || f.backend.length !== 1) {
    throw new RangeError(`a measurement takes one model and one backend, got --model ${f.model.join(',')} --backend ${f.backend.join(',')}\n${flagHelp(specs)}`);
  }
  const request: MeasureRequest = {
    model: f.model[0] as BenchModel,
    backend: f.backend[0] as BenchBackend,
    batchSize: f['batch-size'],
    microBatchSize: f['micro-batch-size'],
    warmup: f.warmup,
    steps: f.steps,
    seed: f.seed,
  };
  return { request, extra: f };
}

/**
 * Collects step timestamps: call `tick()` once after every training step. The tick that ends the
 * warm-up opens the timed run; each later tick closes one timed step.
 */
export class StepClock {
  private readonly marks: number[] = [];
  private ticks = 0;

  constructor(
    private readonly warmup: number,
    private readonly steps: number,
  ) {}

  tick(): void {
    this.ticks += 1;
    if (this.ticks >= this.warmup && this.marks.length <= this.steps) this.marks.push(performance.now());
  }

  /** True once the warm-up and every timed step have ticked. */
  get done(): boolean {
    return this.marks.length === this.steps + 1;
  }

  /**
   * The timestamps, once complete.
   * @throws {RangeError} when fewer steps ticked than requested (the loop stopped early).
   */
  get marksMs(): readonly number[] {
    if (!this.done) throw new RangeError(`only ${this.ticks} steps ran, ${this.warmup} warm-up + ${this.steps} timed were requested; the training loop stopped early`);
    return this.marks;
  }
}
