import type { CoordinatorStepCost } from '@dptrain/simulator';
import type { BaseJob } from '../common/job-options.js';
import { runDptrain } from '../common/run-dptrain.js';
import { RunCpuSampler } from './run-cpu.js';

/** Steps of the measuring run; the middle of them (STEADY) is measured. */
const STEPS = 300;

/**
 * The coordinator's CPU per closed step besides the messages the model already charges it
 * (`perMessageMs` for each of a step's `messagesPerStep`): closing the step, its metrics.jsonl
 * record, the progress display, its spans. Measured in a real `dptrain local` run of the job
 * (sync, one worker, one shard, STEPS steps, into `dir`): the coordinator's threads' CPU from
 * /proc, sampled every 50 ms, over the steps between 30% and 85% of the run (their times from
 * metrics.jsonl), so start-up and the final evaluation are left out. Undefined where /proc
 * cannot be read.
 */
export async function measureCoordinatorStep(job: BaseJob, dir: string, perMessageMs: number, messagesPerStep = 2): Promise<CoordinatorStepCost | undefined> {
  const sampler = new RunCpuSampler();
  try {
    await runDptrain({ command: 'local', args: job.args({ mode: 'sync', psShards: 1, workers: 1, steps: STEPS }), out: dir });
  } finally {
    sampler.stop();
  }
  const cpu = await sampler.perStep(dir);
  const coordinator = cpu?.byRole['coordinator'];
  if (!cpu || !coordinator) return undefined;
  return {
    mainMs: Math.max(0, coordinator.mainMs - messagesPerStep * perMessageMs),
    helperMs: coordinator.helperMs,
    source: `a real dptrain local run (sync, 1 worker, 1 shard, ${STEPS} steps): the coordinator's CPU over ${cpu.steps} steady steps from /proc, less ${messagesPerStep} messages a step at the per-message cost`,
  };
}
