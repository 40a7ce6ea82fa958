import { median } from '@dptrain/cluster';
import type { Calibration, ComputeRun, CoordinatorStepCost, LinearCost, PortCost, SchedulerCost } from './calibration.js';

/**
 * One calibration from several taken on the same machine (in a row, or among a validation's
 * rounds of real runs): every cost the median of its measurements (the compute samples pooled).
 * On a virtual machine the costs move by a fifth to a half between calibrations a minute apart
 * (the host's other guests, the collector), so one calibration stands for one minute of the
 * machine; the median of a few stands for the machine.
 */
export function medianCalibration(calibrations: readonly Calibration[]): Calibration {
  if (calibrations.length === 0) throw new RangeError('medianCalibration needs at least one calibration');
  if (calibrations.length === 1) return calibrations[0]!;
  const [first] = calibrations as [Calibration, ...Calibration[]];
  const of = (get: (c: Calibration) => number) => median(calibrations.map(get));
  const optional = (get: (c: Calibration) => number | undefined) => {
    const values = calibrations.map(get).filter((v): v is number => v !== undefined);
    return values.length === 0 ? undefined : median(values);
  };
  const linear = (get: (c: Calibration) => LinearCost): LinearCost => ({ fixedMs: of((c) => get(c).fixedMs), msPerMB: of((c) => get(c).msPerMB) });
  const runs: ComputeRun[] | undefined = first.computeRuns?.map(({ count }) => {
    const same = calibrations.map((c) => c.computeRuns?.find((r) => r.count === count)).filter((r): r is ComputeRun => r !== undefined);
    const after = same.map((r) => r.helperAfterMs).filter((v): v is number => v !== undefined);
    return {
      count,
      ms: median(same.map((r) => r.ms)),
      helperMs: median(same.map((r) => r.helperMs)),
      ...(after.length === 0 ? {} : { helperAfterMs: median(after) }),
    };
  });
  // Core by core, where every calibration timed the same cores.
  const byCore = calibrations.every((c) => c.computeMsByCore?.length === first.computeMsByCore?.length)
    ? first.computeMsByCore?.map((_, k) => median(calibrations.map((c) => c.computeMsByCore![k]!)))
    : undefined;
  const port = medianPortCost(calibrations.map((c) => c.port).filter((p): p is PortCost => p !== undefined));
  const steps = calibrations.map((c) => c.coordinatorStep).filter((s): s is CoordinatorStepCost => s !== undefined);
  const schedulers = calibrations.map((c) => c.scheduler).filter((s): s is SchedulerCost => s !== undefined);
  const computeHelperMs = optional((c) => c.computeHelperMs);
  const computeHelperAfterMs = optional((c) => c.computeHelperAfterMs);
  const receiveHelperMsPerMB = optional((c) => c.receiveHelperMsPerMB);
  const updateLogMsPerMFloat = optional((c) => c.updateLogMsPerMFloat);
  return {
    source: `the median of ${calibrations.length} calibrations: ${calibrations.map((c) => c.source).join('; ')}`,
    model: first.model,
    computeMs: calibrations.flatMap((c) => c.computeMs),
    ...(byCore ? { computeMsByCore: byCore } : {}),
    ...(computeHelperMs === undefined ? {} : { computeHelperMs }),
    ...(computeHelperAfterMs === undefined ? {} : { computeHelperAfterMs }),
    ...(runs ? { computeRuns: runs } : {}),
    encode: linear((c) => c.encode),
    decode: linear((c) => c.decode),
    transport: linear((c) => c.transport),
    ...(receiveHelperMsPerMB === undefined ? {} : { receiveHelperMsPerMB }),
    ...(port === undefined ? {} : { port }),
    foldMsPerMFloat: of((c) => c.foldMsPerMFloat),
    applyMsPerMFloat: of((c) => c.applyMsPerMFloat),
    ...(updateLogMsPerMFloat === undefined ? {} : { updateLogMsPerMFloat }),
    coordinatorMsPerMessage: of((c) => c.coordinatorMsPerMessage),
    ...(steps.length === 0
      ? {}
      : {
          coordinatorStep: {
            mainMs: median(steps.map((s) => s.mainMs)),
            helperMs: median(steps.map((s) => s.helperMs)),
            source: `the median of ${steps.length}: ${steps[0]!.source}`,
          },
        }),
    ...(schedulers.length === 0 ? {} : { scheduler: { sliceMs: median(schedulers.map((s) => s.sliceMs)) } }),
    wire: { latencyMs: of((c) => c.wire.latencyMs), bandwidthMBps: of((c) => c.wire.bandwidthMBps) },
    cores: first.cores,
  };
}

/** Each figure of the port's cost the median of its measurements; undefined when there are none. */
export function medianPortCost(ports: readonly PortCost[]): PortCost | undefined {
  if (ports.length === 0) return undefined;
  const of = (get: (p: PortCost) => number) => median(ports.map(get));
  return {
    fixedMs: of((p) => p.fixedMs),
    msPerMB: of((p) => p.msPerMB),
    latencyMs: of((p) => p.latencyMs),
    receiveHelperMsPerMB: of((p) => p.receiveHelperMsPerMB),
  };
}
