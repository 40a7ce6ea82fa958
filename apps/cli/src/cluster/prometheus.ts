import { Registry, type Counter, type Gauge } from 'prom-client';
import type { Spans } from '@dptrain/log';
import type { LastRecords } from './last-records.js';
import { scrapedCounter, scrapedGauge } from './scraped-metrics.js';
import { spanMetrics } from './span-metrics.js';

/** The parts of GET /status the metrics are read from (the coordinator's status, shard reports included). */
export interface StatusView {
  readonly state: string;
  readonly step: number;
  readonly totalSteps: number;
  readonly stepsPerEpoch: number;
  readonly workers: readonly {
    workerId: number;
    name: string;
    state: string;
    leases: number;
    microBatches: number;
    backupLeases: number;
    timing: { computeMs: number; pullMs: number; pushMs: number; waitMs: number };
  }[];
  readonly faults: readonly { kind: string }[];
  readonly shards: readonly ({
    shard: number;
    version: number;
    accepted: number;
    duplicate: number;
    stale: number;
    rejected: number;
    poisoned: number;
    bytesIn: number;
    bytesOut: number;
    applyMs: number;
  } | null)[];
}

const JOB_STATES = ['waiting', 'training', 'recovering', 'finishing', 'done', 'failed'];
const PUSH_RESULTS = ['accepted', 'duplicate', 'stale', 'rejected', 'poisoned'] as const;
const PHASES = ['compute', 'pull', 'push', 'wait'] as const;

/**
 * The coordinator's metrics in the Prometheus text format, read at each scrape from its status
 * and from the last step and evaluation records (no second bookkeeping that could disagree with
 * summary.json or metrics.jsonl), with the histogram of its step spans and the counters of its
 * instants. Counters are the status's own running totals, so they only grow while the job runs; a
 * restarted coordinator starts them again, as Prometheus expects of a restarted process. The
 * process's own metrics are not in it (scraped-metrics.ts `withProcessMetrics` adds them for
 * GET /metrics; the run folder's final `metrics.prom` goes without).
 */
export function coordinatorMetrics(status: () => StatusView, records: LastRecords): { registry: Registry; spans: Spans } {
  const registry = new Registry();
  const gauge = (name: string, help: string, labelNames: string[], read: (g: Gauge) => void): void => scrapedGauge(registry, name, help, labelNames, read);
  const counter = (name: string, help: string, labelNames: string[], read: (c: Counter) => void): void =>
    scrapedCounter(registry, name, help, labelNames, read);
  gauge('dptrain_step', 'Optimizer steps closed (applied by every shard and recorded).', [], (g) => g.set(status().step));
  gauge('dptrain_total_steps', 'Steps the job will take.', [], (g) => g.set(status().totalSteps));
  gauge('dptrain_epoch', 'Epochs begun, 1-based.', [], (g) => {
    const s = status();
    g.set(Math.min(Math.floor(s.step / s.stepsPerEpoch) + 1, Math.ceil(s.totalSteps / s.stepsPerEpoch)));
  });
  gauge('dptrain_job_state', 'The job state: 1 for the current one.', ['state'], (g) => {
    const now = status().state;
    for (const state of JOB_STATES) g.set({ state }, state === now ? 1 : 0);
  });
  gauge('dptrain_workers', 'Workers by state.', ['state'], (g) => {
    const counts = new Map<string, number>();
    for (const w of status().workers) counts.set(w.state, (counts.get(w.state) ?? 0) + 1);
    for (const state of ['idle', 'busy', 'dead', 'quarantined']) g.set({ state }, counts.get(state) ?? 0);
  });
  counter('dptrain_worker_leases_total', 'Leases issued to each worker (backup copies included).', ['worker'], (c) => {
    for (const w of status().workers) c.inc({ worker: w.name }, w.leases);
  });
  counter(
    'dptrain_worker_micro_batches_total',
    'Micro-batches each worker reported done (computed, pushed and acknowledged by every shard).',
    ['worker'],
    (c) => {
      for (const w of status().workers) c.inc({ worker: w.name }, w.microBatches);
    },
  );
  counter('dptrain_backup_leases_total', 'Backup copies of straggling leases leased.', [], (c) => {
    c.inc(status().workers.reduce((sum, w) => sum + w.backupLeases, 0));
  });
  counter('dptrain_faults_total', 'Faults the job survived (or failed on), by kind.', ['kind'], (c) => {
    for (const f of status().faults) c.inc({ kind: f.kind });
  });
  counter('dptrain_shard_pushes_total', 'Gradient pushes each shard judged, by result.', ['shard', 'result'], (c) => {
    for (const s of status().shards) if (s) for (const result of PUSH_RESULTS) c.inc({ shard: String(s.shard), result }, s[result]);
  });
  counter('dptrain_shard_received_bytes_total', 'Bytes each shard received from workers.', ['shard'], (c) => {
    for (const s of status().shards) if (s) c.inc({ shard: String(s.shard) }, s.bytesIn);
  });
  counter('dptrain_shard_sent_bytes_total', 'Bytes each shard sent to workers.', ['shard'], (c) => {
    for (const s of status().shards) if (s) c.inc({ shard: String(s.shard) }, s.bytesOut);
  });
  counter('dptrain_shard_apply_seconds_total', 'Time each shard spent applying optimizer updates.', ['shard'], (c) => {
    for (const s of status().shards) if (s) c.inc({ shard: String(s.shard) }, s.applyMs / 1000);
  });
  gauge('dptrain_shard_version', "Each shard's parameter version.", ['shard'], (g) => {
    for (const s of status().shards) if (s) g.set({ shard: String(s.shard) }, s.version);
  });
  gauge('dptrain_train_loss', "The last closed step's mean micro-batch loss (NaN before the first).", [], (g) =>
    g.set(records.lastStepRecord?.loss ?? Number.NaN),
  );
  gauge('dptrain_learning_rate', "The last closed step's learning rate (NaN before the first).", [], (g) => g.set(records.lastStepRecord?.lr ?? Number.NaN));
  gauge('dptrain_gradient_norm', "The last closed step's gradient ℓ2 norm, before clipping (NaN before the first).", [], (g) =>
    g.set(records.lastStepRecord?.gradNorm ?? Number.NaN),
  );
  gauge('dptrain_samples_per_second', 'Training samples per second since the start, as of the last closed step (NaN before the first).', [], (g) =>
    g.set(records.lastStepRecord?.samplesPerSecond ?? Number.NaN),
  );
  gauge('dptrain_eval_accuracy_ratio', "The last evaluation's accuracy (0 to 1), by split.", ['split'], (g) => {
    for (const e of records.lastEvals()) g.set({ split: e.split }, e.accuracy);
  });
  gauge('dptrain_eval_loss', "The last evaluation's mean loss, by split.", ['split'], (g) => {
    for (const e of records.lastEvals()) g.set({ split: e.split }, e.loss);
  });
  counter(
    'dptrain_worker_phase_seconds_total',
    "Each worker's time in each phase of its leases (compute, pull, push, wait between leases).",
    ['worker', 'phase'],
    (c) => {
      for (const w of status().workers) for (const phase of PHASES) c.inc({ worker: w.name, phase }, w.timing[`${phase}Ms`] / 1000);
    },
  );
  return { registry, spans: spanMetrics(registry, 'coordinator') };
}
