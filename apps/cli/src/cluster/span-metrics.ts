import { Counter, Histogram, type Registry } from 'prom-client';
import { INSTANT_NAMES, SPAN_NAMES, type EndSpan, type InstantName, type SpanName, type Spans } from '@dptrain/log';

/** The role whose spans a registry's histograms hold, as metric names spell it. */
export type MetricsRole = 'coordinator' | 'shard' | 'worker';

/**
 * Histogram upper bounds in seconds, 100 µs to 30 s in 1-2.5-5 steps: a small model's compute or
 * fold takes well under a millisecond, a big model's step or checkpoint seconds, and a pull held
 * at a shard for its step as long as the slowest worker.
 */
export const SPAN_BUCKETS = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

interface Family {
  readonly role: MetricsRole;
  readonly name: string;
  readonly help: string;
}

/** The histogram of each span (a Record, so a new span name cannot be left without one). */
const SPAN_FAMILIES: Record<SpanName, Family> = {
  lease: { role: 'worker', name: 'dptrain_worker_lease_seconds', help: 'Leases, from their arrival to the last push acknowledged.' },
  pull: { role: 'worker', name: 'dptrain_worker_pull_seconds', help: 'Waits for the parameters of a step (async: of a micro-batch).' },
  compute: { role: 'worker', name: 'dptrain_worker_compute_seconds', help: "Micro-batches' forward and backward passes (the count: micro-batches computed)." },
  push: { role: 'worker', name: 'dptrain_worker_push_seconds', help: "Waits for the shards' verdicts on a lease's pushes, after its last compute." },
  fold: { role: 'shard', name: 'dptrain_shard_fold_seconds', help: "Folding a push (or pushed run) into its step's sum (async: applying it)." },
  update: { role: 'shard', name: 'dptrain_shard_update_seconds', help: "The optimizer's updates of the shard's slice." },
  walAppend: { role: 'shard', name: 'dptrain_shard_wal_append_seconds', help: 'Appending a record to the write-ahead log.' },
  checkpoint: { role: 'shard', name: 'dptrain_shard_checkpoint_seconds', help: 'Writing a checkpoint.' },
  reply: { role: 'shard', name: 'dptrain_shard_reply_seconds', help: 'Answering a pull (the parameters sent).' },
  step: { role: 'coordinator', name: 'dptrain_coordinator_step_seconds', help: 'Steps, from their first lease to every shard having applied them.' },
};

/** The counter of each instant, and the argument it is labelled by. */
const INSTANT_FAMILIES: Record<InstantName, (Family & { readonly label?: string }) | undefined> = {
  leaseIssued: { role: 'coordinator', name: 'dptrain_coordinator_leases_issued_total', help: 'Leases issued to workers (backup copies included).' },
  stepApplied: {
    role: 'coordinator',
    name: 'dptrain_coordinator_applied_reports_total',
    help: 'Updates each shard reported applied (sync: one a step; async: one a micro-batch; re-sent after a reconnect: again).',
    label: 'shard',
  },
  // dptrain_faults_total{kind}, read from the status, counts them, with a restarted coordinator's earlier ones.
  fault: undefined,
};

const endNothing: EndSpan = () => undefined;

/**
 * A span sink that times `role`'s spans into histograms (`dptrain_<role>_<span>_seconds`, labels
 * none: the scrape target tells processes apart) and counts its instants, registered in
 * `registry`. Spans of other roles are not this process's and are ignored.
 */
export function spanMetrics(registry: Registry, role: MetricsRole): Spans {
  const histograms = new Map<SpanName, Histogram>();
  for (const span of SPAN_NAMES) {
    const family = SPAN_FAMILIES[span];
    if (family.role === role) histograms.set(span, new Histogram({ name: family.name, help: family.help, buckets: SPAN_BUCKETS, registers: [registry] }));
  }
  const counters = new Map<InstantName, { counter: Counter; label: string | undefined }>();
  for (const instant of INSTANT_NAMES) {
    const family = INSTANT_FAMILIES[instant];
    if (family?.role !== role) continue;
    const labelNames = family.label ? [family.label] : [];
    counters.set(instant, { counter: new Counter({ name: family.name, help: family.help, labelNames, registers: [registry] }), label: family.label });
  }
  return {
    begin(name) {
      const histogram = histograms.get(name);
      if (!histogram) return endNothing;
      const started = performance.now();
      return () => histogram.observe((performance.now() - started) / 1000);
    },
    instant(name, args) {
      const entry = counters.get(name);
      if (!entry) return;
      if (entry.label === undefined) entry.counter.inc();
      else entry.counter.inc({ [entry.label]: String(args?.[entry.label] ?? '') });
    },
  };
}
