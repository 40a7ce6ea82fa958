import { isProtocolError, type Connection, type MessageOf } from '@dptrain/protocol';
import type { AggregationHost, PushStatus } from './aggregation.js';
import type { PointView } from './previous-point.js';
import { ShardUpdate } from './shard-updates.js';
import { UpdatePhase } from './update-phases.js';
import type { WalRecord } from './write-ahead-log.js';

/** What an aggregation policy did to its fake shard. */
export interface PolicyRig {
  readonly host: AggregationHost;
  readonly connection: Connection;
  readonly state: { version: number; readonly grad: Float32Array; readonly applied: Set<string> };
  readonly acks: { status: PushStatus; reason: string | undefined; step: number; microBatchId: number }[];
  /** The records of the updates the policy asked for, copied when asked (the gradient buffer is reused). */
  readonly records: WalRecord[];
  readonly reported: WalRecord[];
  readonly answered: { view: PointView | undefined }[];
  readonly parked: { wanted: number; ahead: number }[];
  /** Times the policy asked for the parked pulls to be served. */
  served: number;
  /** How the next applyNow ends (async). @default Applied */
  outcome: UpdatePhase.Applied | UpdatePhase.Skipped | UpdatePhase.Refused;
}

/**
 * A fake shard for a policy: its updates are recorded, not made; each one asked for moves the
 * version on by one, as the real shard's do.
 */
export function policyRig(length: number): PolicyRig {
  const state = { version: 0, grad: new Float32Array(length), applied: new Set<string>() };
  const copy = (record: WalRecord): WalRecord => ({ ...record, grad: record.grad.slice() });
  const rig: PolicyRig = {
    connection: { isOpen: true } as unknown as Connection,
    state,
    acks: [],
    records: [],
    reported: [],
    answered: [],
    parked: [],
    served: 0,
    outcome: UpdatePhase.Applied,
    host: {
      shard: 0,
      state: {
        get version() {
          return state.version;
        },
        grad: state.grad,
        bnSpecs: [],
        applied: (step, id) => state.applied.has(`${step}/${id}`),
        previousAt: () => undefined,
      },
      updates: {
        serveStep: (record) => {
          rig.records.push(copy(record));
          state.version++;
        },
        applyNow: (record) => {
          rig.records.push(copy(record));
          const update = new ShardUpdate(record);
          update.reason = 'a fake refusal';
          if (rig.outcome === UpdatePhase.Applied) {
            update.to(UpdatePhase.Admitted);
            state.version++;
          }
          update.to(rig.outcome);
          return update;
        },
        report: (update) => void rig.reported.push(update.record),
      },
      pulls: {
        answer: (_c, _msg, view) => {
          rig.answered.push({ view });
          return Promise.resolve(true);
        },
        park: (_c, _msg, wanted, ahead) => void rig.parked.push({ wanted, ahead }),
        serve: () => {
          rig.served++;
          return [];
        },
      },
      guards: { requireBnStats: () => undefined },
      ack: (_c, msg: MessageOf<'push'> | MessageOf<'pushRun'>, status, reason) =>
        void rig.acks.push({ status, reason, step: msg.step, microBatchId: msg.microBatchId }),
    },
  };
  return rig;
}

/** The code of the ProtocolError `f` throws, 'none' when it throws nothing. */
export function thrownCode(f: () => void): string {
  try {
    f();
    return 'none';
  } catch (error) {
    return isProtocolError(error) ? error.code : String(error);
  }
}
