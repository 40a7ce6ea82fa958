import { readFile, mkdir, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { CalibrationError, checkCalibration, type Calibration } from '@dptrain/simulator';
import type { RealRun } from './judge.js';
import type { ValidationRow } from './validate.js';

/**
 * Reads a calibration written by `--calibrate`.
 * @throws CalibrationError when the file is missing, not JSON, or lacks a field (the message says which and how to make one)
 */
export async function readCalibration(path: string): Promise<Calibration> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw new CalibrationError(
      `cannot read calibration file ${path} (${(error as NodeJS.ErrnoException).code ?? (error as Error).message}); help: measure this machine with \`dptrain experiment simulate --calibrate --calibration ${path}\``,
    );
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new CalibrationError(
      `calibration file ${path} is not JSON (${(error as Error).message}); help: write a fresh one with \`dptrain experiment simulate --calibrate --calibration ${path}\``,
    );
  }
  return checkCalibration(value);
}

export async function writeCalibration(path: string, calibration: Calibration): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  await writeFile(path, `${JSON.stringify(calibration, null, 2)}\n`);
}

/** One line per measured cost, for the report (what came from where). */
export function describeCalibration(c: Calibration): string[] {
  const sorted = [...c.computeMs].sort((a, b) => a - b);
  const q = (p: number) => sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))].toFixed(3);
  return [
    `- Source: ${c.source}.`,
    `- Compute per micro-batch (${c.model.name}, ${c.model.paramCount.toLocaleString('en-US')} parameters, micro-batch ${c.model.microBatchSize}, ${c.model.backend}): ${c.computeMs.length} samples, median ${q(0.5)} ms, p10 ${q(0.1)} ms, p90 ${q(0.9)} ms (the model draws from these samples).`,
    ...(c.computeMsByCore
      ? [
          `- Compute per micro-batch on each core, the process pinned to it in turn: ${c.computeMsByCore.map((ms, k) => `core ${k} ${ms.toFixed(3)} ms`).join(', ')} (medians; a worker pinned to a core computes at its speed).`,
        ]
      : []),
    ...(c.scheduler
      ? [
          `- One CPU shared by threads (measured with this process pinned to one): two busy threads take turns of ${c.scheduler.sliceMs.toFixed(2)} ms (median), the model's time slice.`,
        ]
      : [`- One CPU shared by threads: not measured (this process could not pin itself); the model takes the kernel's default slice.`]),
    ...(c.computeHelperMs === undefined
      ? []
      : [
          `- The compute's helper threads per micro-batch: ${c.computeHelperMs.toFixed(3)} ms during it${c.computeHelperAfterMs === undefined ? " (timed back to back: the work each leaves behind is in the next one's figure)" : `, ${c.computeHelperAfterMs.toFixed(3)} ms after it (in a pause after each)`}.`,
        ]),
    `- Encode a frame: ${c.encode.fixedMs.toFixed(4)} ms + ${c.encode.msPerMB.toFixed(3)} ms/MB of tensors; decode and validate: ${c.decode.fixedMs.toFixed(4)} ms + ${c.decode.msPerMB.toFixed(3)} ms/MB (real codec).`,
    `- Transport CPU per message and side (ws framing and masking, socket copies): ${c.transport.fixedMs.toFixed(4)} ms + ${c.transport.msPerMB.toFixed(3)} ms/MB (a real loopback client and server, CPU time less the codec's).`,
    ...(c.port
      ? [
          `- A co-located worker's port to its shard's thread, per frame and side beyond the codec: ${c.port.fixedMs.toFixed(4)} ms + ${c.port.msPerMB.toFixed(3)} ms/MB; hand-over latency ${c.port.latencyMs.toFixed(4)} ms; receive helpers ${c.port.receiveHelperMsPerMB.toFixed(3)} ms/MB (a real MessagePort to a thread, each thread's CPU).`,
        ]
      : []),
    `- Shard fold: ${c.foldMsPerMFloat.toFixed(3)} ms per million floats (GradientSum.add); update: ${c.applyMsPerMFloat.toFixed(3)} ms per million floats (the mean gradient's norm and UpdateRule.apply).`,
    `- Coordinator: ${c.coordinatorMsPerMessage.toFixed(4)} ms per message (a small frame's encode and decode and the transport's fixed cost on both sides)${c.coordinatorStep ? `; per closed step besides its messages ${c.coordinatorStep.mainMs.toFixed(3)} ms on its main thread and ${c.coordinatorStep.helperMs.toFixed(3)} ms on its other threads (${c.coordinatorStep.source})` : ''}.`,
    ...(c.computeRuns && c.computeRuns.length > 0
      ? [
          `- A sync lease's leading run computed in one pass (computeGradientsEach): ${c.computeRuns.map((r) => `${r.count} micro-batches ${r.ms.toFixed(3)} ms`).join(', ')} (median main-thread CPU, helper threads beside it).`,
        ]
      : []),
    `- Loopback wire besides CPU: latency ${c.wire.latencyMs.toFixed(4)} ms, throughput ${c.wire.bandwidthMBps.toFixed(0)} MB/s (the round trips' wall time not spent on CPU).`,
    `- Cores: ${c.cores}.`,
  ];
}

/**
 * The validation of an earlier `results.json` (`--reuse-validation`), to re-project without
 * running the real configurations again.
 * @throws CalibrationError when the file cannot be read or holds no validation table
 */
export async function readValidation(
  path: string,
): Promise<{ validation: ValidationRow[]; validationRepeats: number; validationPriority: number; validationSteps: number | undefined }> {
  let value: { validation?: unknown; validationRepeats?: unknown; validationPriority?: unknown; validationSteps?: unknown };
  try {
    value = JSON.parse(await readFile(path, 'utf8')) as typeof value;
  } catch (error) {
    throw new CalibrationError(
      `cannot read the validation of ${path} (${(error as Error).message}); help: give the results.json of an earlier \`dptrain experiment simulate\` that ran its validation`,
    );
  }
  if (!Array.isArray(value.validation) || typeof value.validationRepeats !== 'number') {
    throw new CalibrationError(`${path} holds no validation table; help: give the results.json of a run without --no-validate`);
  }
  return {
    // Rows written before the co-located layout have no layout: they ran the separate one; rows
    // written before pinning ran unpinned; rows written before the runs were kept whole have them
    // only as the text "rate (background) / …".
    validation: (value.validation as ValidationRow[]).map((row) => ({
      ...row,
      layout: row.layout ?? 'separate',
      pinned: row.pinned ?? false,
      runs: row.runs ?? runsOf(row.repeats),
    })),
    validationRepeats: value.validationRepeats,
    validationPriority: typeof value.validationPriority === 'number' ? value.validationPriority : 0,
    validationSteps: typeof value.validationSteps === 'number' ? value.validationSteps : undefined,
  };
}

/** The real runs of an older row's "4075 (0.00) / 4359 (0.00)" text ("—" a failed run, "?" an unknown background). */
export function runsOf(repeats: string | null | undefined): RealRun[] {
  if (!repeats) return [];
  return repeats.split(' / ').map((text) => {
    const [, rate, load] = /^(\S+)(?: \(([^)]*)\))?$/.exec(text.trim()) ?? [];
    const number = (v: string | undefined) => (v === undefined || !Number.isFinite(Number(v)) ? null : Number(v));
    return { samplesPerSecond: number(rate), background: number(load) };
  });
}
