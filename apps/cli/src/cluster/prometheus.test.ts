import { describe, expect, it } from 'vitest';
import { LastRecords } from './last-records.js';
import { coordinatorMetrics, type StatusView } from './prometheus.js';
import { samples } from './test-support.js';

function status(step: number): StatusView {
  return {
    state: 'training',
    step,
    totalSteps: 100,
    stepsPerEpoch: 40,
    workers: [
      {
        workerId: 0,
        name: 'worker-0',
        state: 'busy',
        leases: step,
        microBatches: 2 * step,
        backupLeases: 1,
        timing: { computeMs: 100 * step, pullMs: 20 * step, pushMs: 5 * step, waitMs: 1 },
      },
      {
        workerId: 1,
        name: 'worker-1',
        state: 'dead',
        leases: 3,
        microBatches: 6,
        backupLeases: 0,
        timing: { computeMs: 300, pullMs: 0, pushMs: 0, waitMs: 0 },
      },
    ],
    faults: [{ kind: 'worker-disconnected' }, { kind: 'worker-disconnected' }, { kind: 'shard-lost' }],
    shards: [
      { shard: 0, version: step, accepted: 4 * step, duplicate: 2, stale: 0, rejected: 0, poisoned: 1, bytesIn: 1000, bytesOut: 2000, applyMs: 1500 },
      null,
    ],
  };
}

describe('coordinatorMetrics', () => {
  it('exposes the status read at each scrape, counters as its running totals', async () => {
    let now = status(10);
    const { registry } = coordinatorMetrics(() => now, new LastRecords());
    const first = await samples(registry.metrics());
    expect(first.get('dptrain_step')).toBe(10);
    expect(first.get('dptrain_epoch')).toBe(1);
    expect(first.get('dptrain_job_state{state="training"}')).toBe(1);
    expect(first.get('dptrain_workers{state="busy"}')).toBe(1);
    expect(first.get('dptrain_workers{state="dead"}')).toBe(1);
    expect(first.get('dptrain_worker_micro_batches_total{worker="worker-0"}')).toBe(20);
    expect(first.get('dptrain_faults_total{kind="worker-disconnected"}')).toBe(2);
    expect(first.get('dptrain_shard_pushes_total{shard="0",result="poisoned"}')).toBe(1);
    expect(first.get('dptrain_shard_apply_seconds_total{shard="0"}')).toBe(1.5);
    now = status(50);
    const second = await samples(registry.metrics());
    expect([second.get('dptrain_step'), second.get('dptrain_epoch'), second.get('dptrain_shard_pushes_total{shard="0",result="accepted"}')]).toEqual([
      50, 2, 200,
    ]);
    // A scrape reads the totals again rather than adding them to the last scrape's.
    expect(second.get('dptrain_faults_total{kind="worker-disconnected"}')).toBe(2);
    expect(second.get('dptrain_worker_phase_seconds_total{worker="worker-0",phase="compute"}')).toBe(5);
    expect(second.get('dptrain_worker_phase_seconds_total{worker="worker-0",phase="pull"}')).toBe(1);
    expect(second.get('dptrain_worker_phase_seconds_total{worker="worker-1",phase="compute"}')).toBe(0.3);
  });

  it('shows the last step and the last evaluation of each split as the records hand them to metrics.jsonl', async () => {
    const records = new LastRecords();
    const { registry } = coordinatorMetrics(() => status(0), records);
    const before = await samples(registry.metrics());
    expect(before.get('dptrain_train_loss')).toBeNaN();
    expect([...before.keys()].some((k) => k.startsWith('dptrain_eval_'))).toBe(false);
    records.step({ step: 1, loss: 2.3, lr: 0.01, gradNorm: 4.5, samplesPerSecond: 800 });
    records.eval({ step: 40, split: 'validation', loss: 0.9, accuracy: 0.7 });
    records.eval({ step: 40, split: 'test', loss: 1.1, accuracy: 0.65 });
    records.step({ step: 41, loss: 0.8, lr: 0.005, gradNorm: 1.5, samplesPerSecond: 900 });
    records.eval({ step: 80, split: 'test', loss: 0.6, accuracy: 0.8 });
    const s = await samples(registry.metrics());
    expect([s.get('dptrain_train_loss'), s.get('dptrain_learning_rate'), s.get('dptrain_gradient_norm'), s.get('dptrain_samples_per_second')]).toEqual([
      0.8, 0.005, 1.5, 900,
    ]);
    expect(s.get('dptrain_eval_accuracy_ratio{split="test"}')).toBe(0.8);
    expect(s.get('dptrain_eval_loss{split="test"}')).toBe(0.6);
    expect(s.get('dptrain_eval_accuracy_ratio{split="validation"}')).toBe(0.7);
  });

  it("counts the step spans and the lease and applied-report instants the coordinator's spans sink sees", async () => {
    const { registry, spans } = coordinatorMetrics(() => status(3), new LastRecords());
    spans.begin('step', { step: 0 })();
    spans.instant('leaseIssued', { step: 0, leaseId: 0, workerId: 0, microBatches: 4 });
    const s = await samples(registry.metrics());
    expect(s.get('dptrain_coordinator_step_seconds_count')).toBe(1);
    expect(s.get('dptrain_coordinator_leases_issued_total')).toBe(1);
  });
});
