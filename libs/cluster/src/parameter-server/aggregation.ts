import type { Connection, MessageOf } from '@dptrain/protocol';
import type { JobDescription, PlanSizes } from '@dptrain/job';
import type { PushGuards } from './push-guards.js';
import type { ShardPulls } from './shard-pulls.js';
import type { ShardState } from './shard-state.js';
import type { ShardUpdates } from './shard-updates.js';

export type PushMessage = MessageOf<'push'> | MessageOf<'pushRun'>;
export type PushStatus = 'accepted' | 'duplicate' | 'stale' | 'rejected' | 'split';

/**
 * How a shard turns pushes into optimizer updates, chosen once from the job's mode and injected
 * into the shard (as ps-lite injects its request handler): `SyncSum` folds each step's micro-batch
 * gradients in id order and applies their mean once, `AsyncApply` applies each push on arrival
 * within the staleness bound. The shard validates a message (range, ticket, batch-norm moments,
 * maxGradNorm) before it reaches the policy.
 */
export interface Aggregation {
  push(connection: Connection, msg: MessageOf<'push'>): void;
  /** A run of micro-batches summed by the worker (messages.ts, pushRun); only sync takes them. */
  pushRun(connection: Connection, msg: MessageOf<'pushRun'>): void;
  /** A pull of a step (`pull.step`); async pulls by minVersion, which the shard serves alone. */
  pullStep(connection: Connection, msg: MessageOf<'pull'>): void;
}

/** A policy's class: what the shard must know of it before it builds its state. */
export interface AggregationPolicy {
  new (host: AggregationHost, job: JobDescription): Aggregation;
  /** Optimizer updates per step: the unit of the learning-rate schedule and of checkpoints. */
  updatesPerStep(plan: PlanSizes): number;
  /** Whether the shard keeps the point before each update (a pull of version − 1). */
  readonly keepsPrevious: boolean;
}

/** What a policy may use of the shard it is injected into. */
export interface AggregationHost {
  readonly shard: number;
  readonly state: Pick<ShardState, 'version' | 'grad' | 'bnSpecs' | 'applied' | 'previousAt'>;
  readonly updates: Pick<ShardUpdates, 'serveStep' | 'applyNow' | 'report'>;
  readonly pulls: Pick<ShardPulls, 'answer' | 'park' | 'serve'>;
  readonly guards: Pick<PushGuards, 'requireBnStats'>;
  /** Answers a push (`pushAck`) and counts it. */
  ack(connection: Connection, msg: PushMessage, status: PushStatus, reason?: string): void;
}
