/**
 * What the parent asks a measurement child for, and what the child reports back. Every
 * implementation (dptrain, plain TensorFlow.js, PyTorch) answers with the same shape, so one
 * piece of code turns timestamps into samples per second for all of them.
 */
import { flagHelp, parseFlags, type FlagSpec, type FlagValues } from '../lib/args.js';
import { TurnTaker } from '../lib/turns.js';

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
  /** Timed steps per round. */
  readonly steps: number;
  /** Timed rounds after the warm-up. */
  readonly rounds: number;
  /** Wait for the parent's turn (bench/lib/turns.ts) before the warm-up and before each round. */
  readonly takeTurns: boolean;
  readonly seed: number;
}

export interface StepTiming {
  /** Trainable values of the model as this implementation built it. */
  readonly paramCount: number;
  /** Per timed round: its start, then the end of each of its steps (ms, monotonic clock). */
  readonly roundsMs: readonly (readonly number[])[];
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
  steps: { kind: 'int', help: 'timed steps per round', default: 20 },
  rounds: { kind: 'int', help: 'timed rounds', default: 1 },
  'take-turns': { kind: 'boolean', help: "wait for the parent's turns on stdin", default: false },
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
    '--rounds', String(request.rounds),
    ...(request.takeTurns ? ['--take-turns'] : []),
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
    rounds: f.rounds,
    takeTurns: f['take-turns'],
    seed: f.seed,
  };
  return { request, extra: f };
}

/**
 * Paces a training loop through its turns and records step timestamps. Call `await start()`
 * before the first step and `await tick()` after every step: turn 0 holds the warm-up steps
 * (and whatever set-up the loop does before its first step), turn r ≥ 1 the r-th timed round.
 * A round's clock starts when its turn is given, so waiting for a turn is never timed.
 */
export class RoundClock {
  private readonly rounds: number[][] = [];
  private ticks = 0;
  private readonly turns: TurnTaker;

  constructor(private readonly request: Pick<MeasureRequest, 'warmup' | 'steps' | 'rounds' | 'takeTurns'>) {
    this.turns = new TurnTaker(request.takeTurns);
  }

  /** Warm-up plus every timed step. */
  get totalSteps(): number {
    return this.request.warmup + this.request.steps * this.request.rounds;
  }

  /** Waits for the warm-up turn. */
  async start(): Promise<void> {
    await this.turns.next();
  }

  async tick(): Promise<void> {
    const { warmup, steps, rounds } = this.request;
    this.ticks += 1;
    if (this.ticks < warmup) return;
    if (this.ticks === warmup) return this.openRound();
    const round = this.rounds.at(-1)!;
    if (round.length > steps) return; // beyond the request: not timed
    round.push(performance.now());
    if (round.length === steps + 1 && this.rounds.length < rounds) return this.openRound();
  }

  private async openRound(): Promise<void> {
    await this.turns.next();
    this.rounds.push([performance.now()]);
  }

  /**
   * The timestamps of every round, once complete.
   * @throws {RangeError} when fewer steps ticked than requested (the loop stopped early).
   */
  get roundsMs(): readonly (readonly number[])[] {
    if (this.ticks < this.totalSteps) {
      const { warmup, steps, rounds } = this.request;
      throw new RangeError(`only ${this.ticks} steps ran, ${warmup} warm-up + ${rounds} rounds × ${steps} timed were requested; the training loop stopped early`);
    }
    return this.rounds;
  }
}
