import { ProtocolError } from '@dptrain/protocol';

/** Where a restarted coordinator picks the job up, read from the run folder's metrics.jsonl. */
export interface ResumePoint {
  /** Steps closed before the restart: the next step to close. */
  readonly step: number;
  /** Sum and count of the step losses of the epoch in progress (the epoch's train loss is their mean). */
  readonly epochLossSum: number;
  readonly epochSteps: number;
  /** Train loss of the last finished epoch (NaN before the first). */
  readonly trainLoss: number;
  /** The last closed step ended an epoch whose test evaluation was not written: run it first. */
  readonly evalDue: boolean;
}

interface StepRecord {
  readonly kind: 'step';
  readonly step: number;
  readonly loss: number;
}

/**
 * The resume point of a run folder's metrics records (parsed JSON lines, in file order). Step
 * records carry `step` = steps closed so far (1, 2, …). A record the coordinator wrote for a step
 * twice (it died between the metrics line and the next) counts once, the last one.
 *
 * @throws RangeError when the step records have a gap (the folder was not written by this job)
 */
export function resumePointOf(records: readonly unknown[], stepsPerEpoch: number): ResumePoint {
  const losses = new Map<number, number>();
  const evaluated = new Set<number>();
  for (const r of records) {
    if (typeof r !== 'object' || r === null) continue;
    const rec = r as { kind?: unknown; step?: unknown; loss?: unknown; split?: unknown };
    if (rec.kind === 'step' && typeof rec.step === 'number' && typeof rec.loss === 'number') losses.set(rec.step, (rec as StepRecord).loss);
    if (rec.kind === 'eval' && rec.split === 'test' && typeof rec.step === 'number') evaluated.add(rec.step);
  }
  const step = losses.size;
  for (let s = 1; s <= step; s++) {
    if (!losses.has(s))
      throw new RangeError(
        `metrics.jsonl has step records up to ${Math.max(...losses.keys())} but none for step ${s}; it is not the run folder of this job — give --out the folder of the run to resume`,
      );
  }
  const epochStart = Math.floor(step / stepsPerEpoch) * stepsPerEpoch;
  let epochLossSum = 0;
  for (let s = epochStart + 1; s <= step; s++) epochLossSum += losses.get(s)!;
  let trainLoss = Number.NaN;
  if (epochStart > 0) {
    let sum = 0;
    for (let s = epochStart - stepsPerEpoch + 1; s <= epochStart; s++) sum += losses.get(s)!;
    trainLoss = sum / stepsPerEpoch;
  }
  return { step, epochLossSum, epochSteps: step - epochStart, trainLoss, evalDue: step > 0 && step % stepsPerEpoch === 0 && !evaluated.has(step) };
}

/**
 * Refuses a resume that cannot continue the job.
 * @throws ProtocolError E_RANGE when the job's mode does not resume (`resumable` false), or the run closed every step already
 */
export function checkResumable(resume: ResumePoint, resumable: boolean, totalSteps: number): void {
  if (!resumable)
    throw new ProtocolError('E_RANGE', 'coordinator --resume continues synchronous jobs only; an async job restarts from the beginning (drop --resume)');
  if (resume.step >= totalSteps) {
    throw new ProtocolError('E_RANGE', `the run to resume already closed all ${totalSteps} steps; give another --out, or start without --resume`);
  }
}
