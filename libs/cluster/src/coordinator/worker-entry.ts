import type { Connection } from '@dptrain/protocol';
import { WorkerState } from '../lifecycle.js';
import type { LeaseEntry } from './leases.js';
import { emptySplit, type TimeSplit } from './time-split.js';

export interface WorkerEntry {
  readonly id: number;
  readonly name: string;
  readonly backend: string;
  /** It has no data set: its leases carry their samples (it registered with `samples`; a registration again may change it). */
  samples: boolean;
  connection: Connection;
  generation: number;
  state: WorkerState;
  lastSeen: number;
  lease: LeaseEntry | undefined;
  leases: number;
  microBatches: number;
  /** Of those, micro-batches another worker's leaseDone had reported done first. */
  reportedAgain: number;
  reconnects: number;
  backupLeases: number;
  leasesBackedUp: number;
  readonly timing: TimeSplit;
  /** Leases given to this worker and not yet reported done, by id: a leaseDone must answer one. */
  readonly issued: Map<number, { readonly step: number; readonly ids: readonly number[] }>;
  /** The secret a `register` naming this worker's id must carry (reconnects of this worker only). */
  readonly session: string;
}

/** A worker that can take a lease or holds one (not dead, not quarantined). */
export function isLive(worker: WorkerEntry): boolean {
  return worker.state === WorkerState.Idle || worker.state === WorkerState.Busy;
}

/** What the lease policies see of the workers. */
export interface Roster {
  /** Workers free for a lease, in registration order. */
  idle(): WorkerEntry[];
  /** Every worker that ever registered, in registration order. */
  all(): WorkerEntry[];
  /** Workers not dead (quarantined ones count). */
  notDead(): number;
}

/** A worker just admitted: idle, generation 0, nothing leased yet. */
export function newWorkerEntry(fields: Pick<WorkerEntry, 'id' | 'name' | 'backend' | 'samples' | 'connection' | 'lastSeen' | 'session'>): WorkerEntry {
  return {
    ...fields,
    generation: 0,
    state: WorkerState.Idle,
    lease: undefined,
    leases: 0,
    microBatches: 0,
    reportedAgain: 0,
    reconnects: 0,
    backupLeases: 0,
    leasesBackedUp: 0,
    timing: emptySplit(),
    issued: new Map(),
  };
}
