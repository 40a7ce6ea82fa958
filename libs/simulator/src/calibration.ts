import { withCode } from '@dptrain/errors';
/**
 * The measured costs the simulation's models run on (`dptrain experiment simulate --calibrate`
 * writes them; calibrate.ts says how each is measured). Times are milliseconds of one core.
 */
export interface Calibration {
  /** Where the numbers come from: host, date, load average, backend. */
  readonly source: string;
  /** The model and micro-batch the compute samples are for. */
  readonly model: { readonly name: string; readonly paramCount: number; readonly microBatchSize: number; readonly backend: string };
  /** Forward and backward of one micro-batch on the main thread (its CPU), one sample per measured micro-batch. */
  readonly computeMs: readonly number[];
  /**
   * The median of computeMs's samples taken on each core, the process pinned to it (core k is the
   * k-th CPU `--pin-cpus` hands out): the cores of a virtual machine need not be alike, and a
   * pinned worker computes at its core's speed. Absent where the calibration could not pin itself
   * (then every core is alike).
   */
  readonly computeMsByCore?: readonly number[];
  /**
   * CPU the process's other threads (garbage collector, compiler) use per micro-batch while it
   * computes, on average: it competes for the cores but does not hold up the worker. Absent in
   * older files (then 0); files without computeHelperAfterMs timed micro-batches back to back, so
   * this holds both parts.
   */
  readonly computeHelperMs?: number;
  /**
   * The helper threads' CPU per micro-batch once its compute is over (the collector freeing what it
   * left), measured in a pause after each: it runs while the worker sends and waits. Absent in
   * older files (then 0).
   */
  readonly computeHelperAfterMs?: number;
  /**
   * A sync worker computes its lease's leading run of k ≥ 2 micro-batches in one pass
   * (Model.computeGradientsEach), cheaper than k single ones for a dense model: the median main
   * thread CPU of a run of each measured length, and its helper threads' CPU. Absent in older
   * files (then a run costs k single micro-batches).
   */
  readonly computeRuns?: readonly ComputeRun[];
  /** Encoding a frame (schema check, msgpack header, tensor copy): fixed + per megabyte of tensors. */
  readonly encode: LinearCost;
  /** Decoding and validating a frame (finite scan of tensors): fixed + per megabyte of tensors. */
  readonly decode: LinearCost;
  /**
   * The transport's CPU on each side of a message, measured between two processes (WebSocket
   * framing, the socket writes and reads with their kernel copies, fragment joining): fixed + per
   * megabyte of tensors, counted once at the sender and once at the receiver.
   */
  readonly transport: LinearCost;
  /**
   * CPU the receiving process's other threads (V8's collector, freeing the frames' buffers) spend
   * per megabyte of tensors received: it competes for the cores without holding up the receiver.
   * Absent in older files (then 0, and the transport's per-megabyte part held it).
   */
  readonly receiveHelperMsPerMB?: number;
  /**
   * A frame between a co-located worker and its own shard's thread, over a MessagePort
   * (port-connection.ts) instead of a socket. Absent in older files (then such a frame costs the
   * codec alone and arrives at once).
   */
  readonly port?: PortCost;
  /** A shard folding one pushed gradient slice into its sum, per million floats. */
  readonly foldMsPerMFloat: number;
  /** A shard's update per million floats of its slice: the mean gradient's norm (checked finite) and the optimizer step (UpdateRule.apply); older files hold the step alone. */
  readonly applyMsPerMFloat: number;
  /**
   * A durable shard's write-ahead log append and previous-point copy before each update, per
   * million floats of its slice. Absent in older files (then 0).
   */
  readonly updateLogMsPerMFloat?: number;
  /** The coordinator's handling of one message (lease book-keeping, replies). */
  readonly coordinatorMsPerMessage: number;
  /**
   * What the coordinator does per closed step besides its messages (the step's metrics record,
   * progress display, spans), measured in a real run. Absent in older files (then nothing).
   */
  readonly coordinatorStep?: CoordinatorStepCost;
  /**
   * How the kernel shares one CPU between threads (scheduler-probe.ts). Absent in older files and
   * where the calibration could not pin itself (then the kernel's default slice, defaultSliceMs).
   */
  readonly scheduler?: SchedulerCost;
  /** What the transport adds besides CPU: loopback latency and throughput when measured here. */
  readonly wire: { readonly latencyMs: number; readonly bandwidthMBps: number };
  /** Cores of the machine the calibration ran on. */
  readonly cores: number;
}

/**
 * The port's CPU on each side of a frame beyond the codec (copying the frame's parts into one
 * buffer, posting it, taking it in on the other thread), fixed + per megabyte of tensors, as the
 * transport's; the hand-over's wall time beyond that CPU; and the process's other threads' CPU per
 * megabyte received (collecting the handed-over buffers).
 */
export interface PortCost extends LinearCost {
  readonly latencyMs: number;
  readonly receiveHelperMsPerMB: number;
}

export interface SchedulerCost {
  /** How long two busy threads on one CPU each run before the other's turn: the model's time slice. */
  readonly sliceMs: number;
}

export interface CoordinatorStepCost {
  /** Main-thread CPU per step beyond the step's messages. */
  readonly mainMs: number;
  /** Its other threads' CPU per step (libuv's pool writing the record, V8's helpers). */
  readonly helperMs: number;
  /** How it was measured. */
  readonly source: string;
}

export interface ComputeRun {
  /** Micro-batches in the run. */
  readonly count: number;
  /** Median main-thread CPU of the whole run. */
  readonly ms: number;
  /** Helper threads' CPU per run while it computes, on average. */
  readonly helperMs: number;
  /** Helper threads' CPU per run once it is over, on average (computeHelperAfterMs's). Absent in older files (then 0). */
  readonly helperAfterMs?: number;
}

/**
 * The middle value of `values`, the upper middle of an even count: the rule the calibration's
 * medians were taken with, and the single micro-batch a run's cost is scaled against.
 */
export function upperMedian(values: readonly number[]): number {
  return [...values].sort((a, b) => a - b)[values.length >> 1]!;
}

/**
 * How much longer than the calibration's median a micro-batch takes on `core` (a pinned process's
 * core), from computeMsByCore: 1 for a process on any core, or where the calibration measured no
 * core alone.
 */
export function coreComputeFactor(c: Calibration, core: number | undefined): number {
  const byCore = c.computeMsByCore;
  if (core === undefined || !byCore || byCore.length === 0) return 1;
  return byCore[core % byCore.length]! / upperMedian(c.computeMs);
}

/**
 * The calibrated cost of a run of `count` micro-batches computed in one pass, or undefined where
 * the calibration has none. Beyond the longest measured run it grows by the step between the two
 * longest (a run's cost is close to linear in its length).
 */
export function computeRunCost(c: Calibration, count: number): { ms: number; helperMs: number; helperAfterMs?: number } | undefined {
  const runs = [...(c.computeRuns ?? [])].sort((a, b) => a.count - b.count);
  const exact = runs.find((r) => r.count === count);
  if (exact) return exact;
  if (runs.length < 2) return undefined;
  const below = runs.filter((r) => r.count < count);
  const [a, b] = below.length >= 2 ? below.slice(-2) : runs.slice(0, 2);
  const t = (count - a.count) / (b.count - a.count);
  const between = (x: number, y: number) => Math.max(0, x + t * (y - x));
  return { ms: between(a.ms, b.ms), helperMs: between(a.helperMs, b.helperMs), helperAfterMs: between(a.helperAfterMs ?? 0, b.helperAfterMs ?? 0) };
}

export interface LinearCost {
  readonly fixedMs: number;
  readonly msPerMB: number;
}

/** Milliseconds of a linear cost for a frame carrying `tensorBytes`. */
export function costOf(cost: LinearCost, tensorBytes: number): number {
  return cost.fixedMs + (cost.msPerMB * tensorBytes) / 1e6;
}

/** Thrown for a calibration file that cannot be used; the message names the field and the fix. */
export class CalibrationError extends withCode('E_CALIBRATION') {}

function need(ok: boolean, what: string): void {
  if (!ok) throw new CalibrationError(`calibration ${what}; help: write a fresh one with \`dptrain experiment simulate --calibrate --calibration FILE\``);
}

const nonNegative = (v: unknown): boolean => typeof v === 'number' && Number.isFinite(v) && v >= 0;

/**
 * Checks a parsed calibration file.
 * @throws CalibrationError naming the first bad field
 */
export function checkCalibration(value: unknown): Calibration {
  need(typeof value === 'object' && value !== null, 'is not a JSON object');
  const c = value as Record<string, unknown>;
  need(typeof c.source === 'string', 'field "source" is missing');
  const model = c.model as Record<string, unknown> | undefined;
  need(
    typeof model === 'object' &&
      model !== null &&
      typeof model.name === 'string' &&
      Number.isInteger(model.paramCount) &&
      Number.isInteger(model.microBatchSize),
    'field "model" must have name, paramCount and microBatchSize',
  );
  need(
    Array.isArray(c.computeMs) && c.computeMs.length > 0 && c.computeMs.every((v) => nonNegative(v) && (v as number) > 0),
    'field "computeMs" must be a non-empty list of positive milliseconds',
  );
  for (const key of ['encode', 'decode', 'transport'] as const) {
    const l = c[key] as Record<string, unknown> | undefined;
    need(typeof l === 'object' && l !== null && nonNegative(l.fixedMs) && nonNegative(l.msPerMB), `field "${key}" must have non-negative fixedMs and msPerMB`);
  }
  need(
    c.computeRuns === undefined ||
      (Array.isArray(c.computeRuns) &&
        c.computeRuns.every(
          (r: Record<string, unknown>) =>
            Number.isInteger(r.count) &&
            (r.count as number) >= 2 &&
            nonNegative(r.ms) &&
            nonNegative(r.helperMs) &&
            (r.helperAfterMs === undefined || nonNegative(r.helperAfterMs)),
        )),
    'field "computeRuns" must be a list of { count ≥ 2, ms, helperMs, helperAfterMs (when given) } when given',
  );
  need(
    c.computeMsByCore === undefined ||
      (Array.isArray(c.computeMsByCore) && c.computeMsByCore.length > 0 && c.computeMsByCore.every((v) => nonNegative(v) && (v as number) > 0)),
    'field "computeMsByCore" must be a non-empty list of positive milliseconds when given',
  );
  const port = c.port as Record<string, unknown> | undefined;
  need(
    port === undefined ||
      (typeof port === 'object' &&
        port !== null &&
        nonNegative(port.fixedMs) &&
        nonNegative(port.msPerMB) &&
        nonNegative(port.latencyMs) &&
        nonNegative(port.receiveHelperMsPerMB)),
    'field "port" must have non-negative fixedMs, msPerMB, latencyMs and receiveHelperMsPerMB when given',
  );
  const scheduler = c.scheduler as Record<string, unknown> | undefined;
  need(
    scheduler === undefined || (typeof scheduler === 'object' && scheduler !== null && nonNegative(scheduler.sliceMs) && (scheduler.sliceMs as number) > 0),
    'field "scheduler" must have sliceMs > 0 when given',
  );
  const step = c.coordinatorStep as Record<string, unknown> | undefined;
  need(
    step === undefined || (typeof step === 'object' && step !== null && nonNegative(step.mainMs) && nonNegative(step.helperMs)),
    'field "coordinatorStep" must have non-negative mainMs and helperMs when given',
  );
  for (const key of ['computeHelperMs', 'computeHelperAfterMs', 'updateLogMsPerMFloat', 'receiveHelperMsPerMB'] as const)
    need(c[key] === undefined || nonNegative(c[key]), `field "${key}" must be a non-negative number when given`);
  for (const key of ['foldMsPerMFloat', 'applyMsPerMFloat', 'coordinatorMsPerMessage', 'cores'] as const)
    need(nonNegative(c[key]), `field "${key}" must be a non-negative number`);
  const wire = c.wire as Record<string, unknown> | undefined;
  need(
    typeof wire === 'object' && wire !== null && nonNegative(wire.latencyMs) && nonNegative(wire.bandwidthMBps) && (wire.bandwidthMBps as number) > 0,
    'field "wire" must have latencyMs ≥ 0 and bandwidthMBps > 0',
  );
  need((c.cores as number) >= 1, 'field "cores" must be at least 1');
  return value as Calibration;
}
