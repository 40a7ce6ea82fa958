import { createMemoryPair, type Connection } from '@dptrain/protocol';
import type { PlanSizes } from '@dptrain/job';
import type { PolicyParts } from './lease-policy.js';
import { Refusals } from './refusals.js';
import { StepLedger } from './step-ledger.js';
import { newWorkerEntry, type WorkerEntry } from './worker-entry.js';

/** The coordinator's end of a worker connection (its peer is a worker). */
export function workerConnection(): { coordinatorEnd: Connection; workerEnd: Connection } {
  const pair = createMemoryPair({ a: { role: 'worker' }, b: { role: 'coordinator' } });
  return { coordinatorEnd: pair.b, workerEnd: pair.a };
}

/** Idle workers 0..n-1, as membership admits them. */
export function idleWorkers(n: number): WorkerEntry[] {
  return Array.from({ length: n }, (_, id) =>
    newWorkerEntry({ id, name: `worker-${id}`, backend: 'cpu', samples: false, connection: workerConnection().coordinatorEnd, lastSeen: 0, session: `s${id}` }),
  );
}

export interface Leased {
  readonly worker: number;
  readonly step: number;
  readonly ids: readonly number[];
  readonly version: number;
}

/**
 * A lease policy's parts around a real ledger and refusals, with `workers` on the roster (all
 * idle, none dead) and a `lease` that records what it was asked to lease instead of leasing.
 */
export function policyParts(plan: PlanSizes, workers: readonly WorkerEntry[], shardVersion = 0): PolicyParts & { readonly leased: Leased[] } {
  const leased: Leased[] = [];
  return {
    ledger: new StepLedger(plan.microBatchesPerStep, 1, false),
    plan,
    config: { backupAfter: 0, backupMinMs: 0 },
    roster: { idle: () => [...workers], all: () => [...workers], notDead: () => workers.length },
    refusals: new Refusals(),
    lease: (worker, step, ids, version) => void leased.push({ worker: worker.id, step, ids, version }),
    shardVersion: () => shardVersion,
    canLease: () => true,
    firstStep: 0,
    log: () => undefined,
    leased,
  };
}
