import { describe, expect, it } from 'vitest';
import { runScenario } from './chaos-run.js';

// Scenarios that wait for cluster features: listed by `dptrain chaos` as "not yet supported".
describe('fault scenarios waiting for cluster features', () => {
  it('are listed by dptrain chaos with the missing feature, not run', async () => {
    const run = await runScenario('ps-restart');
    expect(run.row.result).toBe('not yet supported: parameter-server checkpoints and resume (ps --resume)');
    expect(run.code).toBe(0);
  }, 60_000);

  it.todo('3 parameter-server SIGKILL + restart from checkpoint → bit-identical (missing: ps checkpoints and resume)');
  it.todo('4 coordinator restart → job resumes, bit-identical (missing: coordinator state recovery, re-registration)');
  it.todo('8 straggler → backup lease finishes the step, bit-identical (missing: backup leases)');
  it.todo('9 crash during checkpoint write → previous checkpoint intact, resume bit-identical (missing: checkpoints)');
  it.todo('10 NaN gradients → worker quarantined, micro-batch re-leased (missing: quarantine)');
});
