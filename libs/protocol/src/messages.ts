import { z } from 'zod';
import { ERROR_CODES, type ErrorCode } from './errors.js';
import type { TensorDtype } from './frame.js';
import { MAX_MICRO_BATCH_IDS, MAX_TEXT_LENGTH } from './limits.js';

/**
 * Every message of the cluster, one zod schema each, keyed by `type`. A message is a plain object
 * whose `type` selects the schema; `seq` is the sender's per-connection sequence number (assigned
 * by Connection) and replies carry `re`, the `seq` of the request they answer.
 *
 * Steps, versions and ids are non-negative safe integers. `version` counts optimizer updates
 * applied by a parameter server; in synchronous mode version t is the state after step t − 1.
 * Tensors are Float32Array (or Uint8Array: a lease's samples) and travel after the header
 * without copies (see frame.ts).
 */
export const PROTOCOL_VERSION = 2;

export const ROLES = ['coordinator', 'ps', 'worker', 'client'] as const;
export type Role = (typeof ROLES)[number];

/**
 * `split` answers a pushRun only: the shard cannot fold the run as one sum (it is not at the run's
 * first id with an empty sum, or it must judge each micro-batch on its own); the worker pushes the
 * run's micro-batches one by one instead.
 */
export const PUSH_STATUSES = ['accepted', 'duplicate', 'stale', 'rejected', 'split'] as const;
export type PushStatus = (typeof PUSH_STATUSES)[number];

export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };

const uint = z.number().int().min(0).max(Number.MAX_SAFE_INTEGER);
const finite = z.number();
const text = z.string().max(MAX_TEXT_LENGTH);
const name = z.string().min(1).max(MAX_TEXT_LENGTH);
const microBatchIds = z.array(uint).max(MAX_MICRO_BATCH_IDS);
/** 128 bits, base64url: a lease ticket (an HMAC; lease-ticket.ts in @dptrain/cluster) or a session secret. */
const secret128 = z.string().regex(/^[A-Za-z0-9_-]{22}$/);
const ticket = secret128;
// Typed as Float32Array<ArrayBufferLike> so views over any buffer (decoded frames, subarrays) fit.
const tensor = z.custom<Float32Array>((value) => value instanceof Float32Array, 'expected a Float32Array');
const bytes = z.custom<Uint8Array>((value) => value instanceof Uint8Array, 'expected a Uint8Array');
// Headers pass assertPlain (JSON-like data only) before any schema sees them.
const json = z.custom<JsonValue>((value) => value !== undefined, 'expected a JSON value');
const request = { seq: uint };
const reply = { seq: uint, re: uint };

export const MESSAGE_SCHEMAS = {
  /**
   * worker or parameter server → coordinator: join the job (a worker again, after a reconnect,
   * with the id it held). A parameter server gives its `shard` index and sends shardReady once it
   * listens.
   */
  register: z.strictObject({
    type: z.literal('register'),
    ...request,
    name,
    pid: uint,
    backend: name,
    workerId: uint.optional(),
    shard: uint.optional(),
    /**
     * A parameter server's version when it registers: 0 on a fresh start, the restored version
     * after `--resume` or when it registers again with a restarted coordinator.
     */
    version: uint.optional(),
    /** With `workerId`: the session secret `registered` gave that worker; without it the id is not taken back. */
    session: secret128.optional(),
    /** A worker without the data set: every lease it is sent carries its samples (`lease.images`, `lease.labels`). */
    samples: z.literal(true).optional(),
  }),
  /**
   * coordinator → worker or parameter server, reply to register: identity, membership generation
   * and the job config; for a worker also the URL of every parameter-server shard, in shard order
   * (the coordinator answers a worker once every shard is ready).
   */
  registered: z.strictObject({
    type: z.literal('registered'),
    ...reply,
    workerId: uint,
    generation: uint,
    config: json,
    shardUrls: z.array(text).max(MAX_MICRO_BATCH_IDS).optional(),
    /** A worker's session secret: it registers again under its id (after a reconnect) only with it. */
    session: secret128.optional(),
  }),
  /** parameter server → coordinator: shard `shard` now serves workers at `url` (ws://host:port/). */
  shardReady: z.strictObject({
    type: z.literal('shardReady'),
    ...request,
    shard: uint,
    url: name,
  }),
  /** worker → coordinator: liveness, sent every heartbeat interval. */
  heartbeat: z.strictObject({
    type: z.literal('heartbeat'),
    ...request,
    workerId: uint,
    generation: uint,
    sentAtMs: uint,
  }),
  /**
   * coordinator → worker: compute these micro-batches of `step` on parameters of `modelVersion`
   * (async mode; in sync mode the version of the step). `deadlineMs` is a duration from receipt,
   * so clocks need not agree.
   */
  lease: z.strictObject({
    type: z.literal('lease'),
    ...request,
    leaseId: uint,
    step: uint,
    microBatchIds: microBatchIds.min(1),
    modelVersion: uint,
    deadlineMs: uint,
    /**
     * One ticket per id of `microBatchIds`, in order: the coordinator's signature of (step,
     * micro-batch, lease) that a shard checks before it takes the push.
     */
    tickets: z.array(ticket).max(MAX_MICRO_BATCH_IDS).optional(),
    /**
     * For a worker that registered with `samples`: the training split's rows of every sample of
     * the lease, micro-batch by micro-batch in `microBatchIds` order, each micro-batch's samples in
     * the plan's order; `images` one row of `features` bytes per sample, `labels` one byte each.
     */
    images: bytes.optional(),
    labels: bytes.optional(),
  }),
  /**
   * worker → coordinator: the lease's gradients were pushed and acknowledged; one loss per
   * micro-batch of `microBatchIds`, in order. `stale` lists the lease's micro-batches a shard
   * answered `stale` (async mode; the coordinator leases them again), so `microBatchIds` may be
   * empty. The times split the lease's wall time: gradient computation, pulls, pushes until
   * acknowledged, and the worker's idle wait for this lease since its previous one.
   */
  leaseDone: z.strictObject({
    type: z.literal('leaseDone'),
    ...request,
    leaseId: uint,
    step: uint,
    microBatchIds,
    losses: z.array(finite).max(MAX_MICRO_BATCH_IDS),
    stale: microBatchIds.optional(),
    /**
     * The lease's micro-batches a shard refused as poisoned (non-finite gradient, or a norm over
     * the job's maxGradNorm): the coordinator leases them to another worker and counts the refusal
     * towards quarantining this one.
     */
    refused: microBatchIds.optional(),
    computeMs: finite.min(0),
    pullMs: finite.min(0).optional(),
    pushMs: finite.min(0).optional(),
    waitMs: finite.min(0).optional(),
  }),
  /** coordinator → worker: stop working on this lease (re-leased elsewhere or step abandoned). */
  leaseRevoked: z.strictObject({
    type: z.literal('leaseRevoked'),
    ...request,
    leaseId: uint,
    reason: text,
  }),
  /** coordinator or client → any: finish and exit. */
  shutdown: z.strictObject({
    type: z.literal('shutdown'),
    ...request,
    reason: text,
  }),
  /**
   * → parameter server: parameters wanted, either at the start of `step` (sync) or the newest
   * with version ≥ `minVersion` (async); exactly one of the two. `offset`/`length` select a slice
   * of the server's range (both or neither; default: the whole range).
   */
  pull: z.strictObject({
    type: z.literal('pull'),
    ...request,
    step: uint.optional(),
    minVersion: uint.optional(),
    offset: uint.optional(),
    length: uint.optional(),
    /** True: the parameters themselves (for evaluation), not the gradient point. @default false */
    raw: z.boolean().optional(),
  }),
  /**
   * parameter server → puller, reply to pull: `values` holds parameters [offset, offset + length)
   * (the look-ahead point for Nesterov), `bnState` the batch-norm running statistics when the
   * model has any.
   */
  params: z.strictObject({
    type: z.literal('params'),
    ...reply,
    version: uint,
    step: uint,
    offset: uint,
    values: tensor,
    bnState: tensor.optional(),
  }),
  /**
   * worker → parameter server: gradient of one micro-batch for the server's slice, computed on
   * parameters of `version` by a worker of membership `generation`. `bnStats` holds, per
   * batch-norm layer, [count, mean…, variance…]; `samples` is the micro-batch size.
   */
  push: z.strictObject({
    type: z.literal('push'),
    ...request,
    step: uint,
    microBatchId: uint,
    version: uint,
    generation: uint,
    offset: uint,
    grads: tensor,
    bnStats: tensor.optional(),
    loss: finite,
    samples: uint.min(1),
    /** The lease the micro-batch came with, and its ticket for this micro-batch. */
    leaseId: uint.optional(),
    ticket: ticket.optional(),
  }),
  /**
   * worker → parameter server (sync mode): the micro-batches microBatchId … microBatchId + count − 1
   * of `step` in one message. `grads` is their gradients' sum for the server's slice, folded in id
   * order from a zeroed buffer (`acc = 0; acc += g_first; …`), which is bit for bit what the server
   * would hold after folding them one by one into an empty sum; so it adds the run only when its
   * sum is empty and the run starts at micro-batch 0, and answers `split` otherwise. `losses` has
   * one loss per micro-batch and `bnStats` (shard 0 of a batch-norm model) one block of moments
   * per micro-batch, in id order.
   */
  pushRun: z.strictObject({
    type: z.literal('pushRun'),
    ...request,
    step: uint,
    microBatchId: uint,
    count: uint.min(1).max(MAX_MICRO_BATCH_IDS),
    version: uint,
    generation: uint,
    offset: uint,
    grads: tensor,
    bnStats: tensor.optional(),
    losses: z.array(finite).min(1).max(MAX_MICRO_BATCH_IDS),
    /** The lease the run came with, and its tickets for the run's micro-batches, in id order. */
    leaseId: uint.optional(),
    tickets: z.array(ticket).max(MAX_MICRO_BATCH_IDS).optional(),
  }),
  /** parameter server → worker, reply to push and pushRun. `reason` explains stale, rejected and split. */
  pushAck: z.strictObject({
    type: z.literal('pushAck'),
    ...reply,
    step: uint,
    microBatchId: uint,
    status: z.enum(PUSH_STATUSES),
    reason: text.optional(),
  }),
  /**
   * parameter server → coordinator: the optimizer applied `step` (async: the micro-batches
   * `microBatchIds` of it), producing `version`, with learning rate `lr` and the ℓ2 norm of the
   * shard's slice of the applied gradient `gradNorm` (before clipping).
   */
  stepApplied: z.strictObject({
    type: z.literal('stepApplied'),
    ...request,
    step: uint,
    version: uint,
    microBatchIds,
    lr: finite.optional(),
    gradNorm: finite.min(0).optional(),
    /** The loss each applied micro-batch's push carried, in `microBatchIds` order. */
    losses: z.array(finite).max(MAX_MICRO_BATCH_IDS).optional(),
  }),
  /**
   * parameter server → coordinator: the shard refused to apply `step` because its mean gradient or
   * the parameters it would produce are not finite (a float32 overflow of finite pushes, or a
   * diverging optimizer). Nothing of the step was served or logged; the job cannot go on.
   */
  stepRefused: z.strictObject({
    type: z.literal('stepRefused'),
    ...request,
    step: uint,
    version: uint,
    reason: text,
  }),
  /** any → any: ask for a status report. */
  status: z.strictObject({
    type: z.literal('status'),
    ...request,
  }),
  /** reply to status; `detail` is role-specific JSON. */
  statusReport: z.strictObject({
    type: z.literal('statusReport'),
    ...reply,
    role: z.enum(ROLES),
    step: uint,
    version: uint,
    detail: json,
  }),
  /** any → any: the message `re` (when known) was refused or failed. */
  error: z.strictObject({
    type: z.literal('error'),
    seq: uint,
    re: uint.optional(),
    code: z.enum(ERROR_CODES as [ErrorCode, ...ErrorCode[]]),
    message: text,
  }),
};

export type MessageType = keyof typeof MESSAGE_SCHEMAS;
export const MESSAGE_TYPES = Object.keys(MESSAGE_SCHEMAS) as readonly MessageType[];

export type MessageOf<K extends MessageType> = z.infer<(typeof MESSAGE_SCHEMAS)[K]>;
export type Message = { [K in MessageType]: MessageOf<K> }[MessageType];

/** A message as an application writes it: `seq` and `re` are filled in by the Connection. */
export type Outgoing<K extends MessageType = MessageType> = {
  [T in K]: Omit<MessageOf<T>, 'seq' | 're'>;
}[K];

export function isMessageType(value: unknown): value is MessageType {
  return typeof value === 'string' && Object.hasOwn(MESSAGE_SCHEMAS, value);
}

/** Fields carried as raw tensors after the header, per message type, with the dtype of each. */
export const TENSOR_FIELDS: { readonly [K in MessageType]: Readonly<Record<string, TensorDtype>> } = {
  register: {},
  registered: {},
  shardReady: {},
  heartbeat: {},
  lease: { images: 'u8', labels: 'u8' },
  leaseDone: {},
  leaseRevoked: {},
  shutdown: {},
  pull: {},
  params: { values: 'f32', bnState: 'f32' },
  push: { grads: 'f32', bnStats: 'f32' },
  pushRun: { grads: 'f32', bnStats: 'f32' },
  pushAck: {},
  stepApplied: {},
  stepRefused: {},
  status: {},
  statusReport: {},
  error: {},
};

/** Whether `field` travels as a tensor in a message of `type` (an own key: "constructor" is not one). */
export function isTensorField(type: MessageType, field: string): boolean {
  return Object.hasOwn(TENSOR_FIELDS[type], field);
}

/** Request types and the reply type each expects. */
export const REPLY_TYPES = {
  register: 'registered',
  pull: 'params',
  push: 'pushAck',
  pushRun: 'pushAck',
  status: 'statusReport',
} as const satisfies { readonly [K in MessageType]?: MessageType };

export type RequestType = keyof typeof REPLY_TYPES;
export type ReplyType = (typeof REPLY_TYPES)[RequestType];
export type ReplyOf<K extends RequestType> = MessageOf<(typeof REPLY_TYPES)[K]>;

export function isReplyType(type: MessageType): type is ReplyType {
  return (Object.values(REPLY_TYPES) as string[]).includes(type);
}

const ANY: readonly Role[] = ROLES;

/** Which roles may send each message type; a receiver refuses the others with E_ROLE. */
export const SENDERS: { readonly [K in MessageType]: readonly Role[] } = {
  register: ['worker', 'ps'],
  registered: ['coordinator'],
  shardReady: ['ps'],
  heartbeat: ['worker'],
  lease: ['coordinator'],
  leaseDone: ['worker'],
  leaseRevoked: ['coordinator'],
  shutdown: ['coordinator', 'client'],
  pull: ['worker', 'coordinator', 'client'],
  params: ['ps'],
  push: ['worker'],
  pushRun: ['worker'],
  pushAck: ['ps'],
  stepApplied: ['ps'],
  stepRefused: ['ps'],
  status: ANY,
  statusReport: ANY,
  error: ANY,
};
