import type { FaultRecord } from '@dptrain/cluster';
import type { JobConfig } from '@dptrain/config';
import type { JsonValue } from '@dptrain/protocol';
import { StepRate } from '../step-rate.js';
import { DecimatedSeries } from './decimated-series.js';

/** Points of the train-loss curve a page receives at most: enough for any screen, cheap to send. */
export const MAX_STEP_POINTS = 2_000;
/** Evaluations kept (two per epoch with a validation split). */
export const MAX_EVAL_POINTS = 1_000;
/** Faults a page that connects late receives: the newest. */
export const MAX_FAULTS = 200;

/** One closed step; `t` is the wall clock (ms since 1970) when the coordinator closed it. */
export interface StepPoint {
  readonly step: number;
  readonly epoch: number;
  readonly loss: number;
  readonly lr: number;
  readonly gradNorm: number;
  readonly t: number;
}

export interface EvalPoint {
  readonly step: number;
  readonly epoch: number;
  readonly split: 'validation' | 'test';
  readonly loss: number;
  readonly accuracy: number;
  readonly t: number;
}

/** How the job ended, as the page shows it. */
export type JobEnd =
  | { readonly state: 'done'; readonly steps: number; readonly testAccuracy: number; readonly testLoss: number; readonly wallSeconds: number }
  | { readonly state: 'failed'; readonly message: string };

/** What the job is, sent first on every connection. */
export interface JobFacts {
  readonly config: JobConfig;
  readonly totalSteps: number;
  readonly stepsPerEpoch: number;
  /** Wall clock (ms since 1970) when this coordinator started the job. */
  readonly startedAt: number;
}

/** One Server-Sent Event of GET /events: `event` is its type, `data` its JSON. */
export type DashboardEvent =
  | { readonly event: 'job'; readonly data: JobFacts }
  | { readonly event: 'steps'; readonly data: readonly StepPoint[] }
  | { readonly event: 'evals'; readonly data: readonly EvalPoint[] }
  | { readonly event: 'faults'; readonly data: readonly FaultRecord[] }
  | { readonly event: 'step'; readonly data: StepPoint }
  | { readonly event: 'eval'; readonly data: EvalPoint }
  | { readonly event: 'fault'; readonly data: FaultRecord }
  | { readonly event: 'status'; readonly data: { readonly [key: string]: JsonValue } }
  | { readonly event: 'end'; readonly data: JobEnd };

export type StatusEvent = Extract<DashboardEvent, { event: 'status' }>;

export type DashboardListener = (event: DashboardEvent) => void;

/**
 * What the dashboard of a coordinator shows, kept for pages that connect later and passed on to
 * the connected ones: the train-loss curve (decimated to MAX_STEP_POINTS, so a page gets the
 * whole run's shape at any length), the evaluations, the newest faults and how the job ended.
 * The coordinator's status snapshots are not kept: each connection reads one per second
 * (`statusEvent`), with the recent samples/s and the ETA added.
 */
export class DashboardEvents {
  private readonly steps = new DecimatedSeries<StepPoint>(MAX_STEP_POINTS);
  private readonly evals = new DecimatedSeries<EvalPoint>(MAX_EVAL_POINTS);
  private readonly faults: FaultRecord[] = [];
  private readonly rate: StepRate;
  private readonly listeners = new Set<DashboardListener>();
  private ended: JobEnd | undefined;
  private lastStep: StepPoint | undefined;

  constructor(
    private readonly job: JobFacts,
    /** Wall clock (ms since 1970). @default Date.now */
    private readonly clock: () => number = () => Date.now(),
  ) {
    this.rate = new StepRate({ totalSteps: job.totalSteps, batchSize: job.config.batchSize }, clock);
  }

  /**
   * The records a restarted coordinator found in the run folder (metrics.jsonl, with their
   * `time`) and the faults before the restart: the curves go on where they stopped.
   */
  replay(records: readonly unknown[], faults: readonly FaultRecord[]): void {
    for (const r of records) {
      const record = r as { kind?: unknown; time?: unknown };
      const t = typeof record.time === 'string' ? Date.parse(record.time) : NaN;
      if (record.kind === 'step' && isStepRecord(record)) this.steps.add({ ...pick(record, STEP_KEYS), t });
      if (record.kind === 'eval' && isEvalRecord(record)) this.evals.add({ ...pick(record, EVAL_KEYS), t });
    }
    for (const fault of faults) this.keepFault(fault);
  }

  step(record: Omit<StepPoint, 't'>): void {
    const point: StepPoint = { ...pick(record, STEP_KEYS), t: this.clock() };
    this.lastStep = point;
    this.rate.step(point.step);
    const outcome = this.steps.add(point);
    if (outcome === 'kept') this.emit({ event: 'step', data: point });
    if (outcome === 'thinned') this.emit({ event: 'steps', data: [...this.steps.points] });
  }

  eval(record: Omit<EvalPoint, 't'>): void {
    const point: EvalPoint = { ...pick(record, EVAL_KEYS), t: this.clock() };
    const outcome = this.evals.add(point);
    if (outcome === 'kept') this.emit({ event: 'eval', data: point });
    if (outcome === 'thinned') this.emit({ event: 'evals', data: [...this.evals.points] });
  }

  fault(record: FaultRecord): void {
    this.keepFault(record);
    this.emit({ event: 'fault', data: record });
  }

  end(how: JobEnd): void {
    this.ended = how;
    this.emit({ event: 'end', data: how });
  }

  /** What a page connecting now receives first: the job, the curves, the faults, and the end if there was one. */
  history(): DashboardEvent[] {
    return [
      { event: 'job', data: this.job },
      { event: 'steps', data: [...this.steps.points] },
      { event: 'evals', data: [...this.evals.points] },
      { event: 'faults', data: [...this.faults] },
      ...(this.ended ? [{ event: 'end', data: this.ended } as const] : []),
    ];
  }

  /**
   * The coordinator's status (GET /status) as the page shows it: its faults left out (they come
   * as events), the wall clock of the snapshot (`at`, for the workers' last heartbeats), the last
   * closed step, and the recent samples/s and ETA (null until a few steps closed).
   */
  statusEvent(status: { readonly [key: string]: JsonValue }): StatusEvent {
    const { faults, ...rest } = status;
    const rate = this.rate.rate();
    return {
      event: 'status',
      data: {
        ...rest,
        at: this.clock(),
        faultCount: Array.isArray(faults) ? faults.length : 0,
        lastStep: this.lastStep ? { ...this.lastStep } : null,
        samplesPerSecond: rate ? rate.samplesPerSecond : null,
        etaSeconds: rate && Number.isFinite(rate.etaSeconds) ? rate.etaSeconds : null,
      },
    };
  }

  /** Calls `listener` with every event from now on, until the returned function is called. */
  subscribe(listener: DashboardListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private keepFault(record: FaultRecord): void {
    this.faults.push(record);
    if (this.faults.length > MAX_FAULTS) this.faults.shift();
  }

  private emit(event: DashboardEvent): void {
    for (const listener of this.listeners) listener(event);
  }
}

const STEP_KEYS = ['step', 'epoch', 'loss', 'lr', 'gradNorm'] as const;
const EVAL_KEYS = ['step', 'epoch', 'split', 'loss', 'accuracy'] as const;

/** The record's fields the page uses (the coordinator's records may carry more). */
function pick<T, K extends keyof T>(record: T, keys: readonly K[]): Pick<T, K> {
  return Object.fromEntries(keys.map((k) => [k, record[k]])) as Pick<T, K>;
}

function isStepRecord(r: object): r is Omit<StepPoint, 't'> {
  return STEP_KEYS.every((k) => typeof (r as Record<string, unknown>)[k] === 'number');
}

function isEvalRecord(r: object): r is Omit<EvalPoint, 't'> {
  const split = (r as { split?: unknown }).split;
  return (split === 'validation' || split === 'test') && EVAL_KEYS.every((k) => k === 'split' || typeof (r as Record<string, unknown>)[k] === 'number');
}
