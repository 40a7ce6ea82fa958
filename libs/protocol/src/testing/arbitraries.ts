import fc from 'fast-check';
import { ERROR_CODES } from '../errors.js';
import { MESSAGE_TYPES, PUSH_STATUSES, ROLES, type JsonValue, type Message, type MessageOf, type MessageType } from '../messages.js';

// Values the protocol cannot carry are left out on purpose: -0 in a header decodes as 0 (msgpack
// has no negative-zero integer), and keys such as "__proto__" or "constructor" are refused.
const uint = fc.maxSafeNat();
const small = fc.nat({ max: 1_000_000 });
const finite = fc.double({ noNaN: true, noDefaultInfinity: true }).map((x) => (Object.is(x, -0) ? 0 : x));
const text = fc.string({ unit: 'grapheme', maxLength: 24 });
const name = fc.string({ unit: 'grapheme', minLength: 1, maxLength: 24 });
const tensor = fc.float32Array({ maxLength: 48, noNaN: true, noDefaultInfinity: true });
const ids = fc.uniqueArray(uint, { minLength: 1, maxLength: 12 });
const ticket = fc.string({ unit: fc.constantFrom(...'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'), minLength: 22, maxLength: 22 });
const json: fc.Arbitrary<JsonValue> = fc.jsonValue({ maxDepth: 3 }).map((value) => plainJson(value as JsonValue));

const FORBIDDEN = new Set(['__proto__', 'constructor', 'prototype', '__proto_']);

function plainJson(value: JsonValue): JsonValue {
  if (Array.isArray(value)) return value.map(plainJson);
  if (typeof value === 'number') return Object.is(value, -0) ? 0 : value;
  if (value === null || typeof value !== 'object') return value;
  const out: { [key: string]: JsonValue } = {};
  for (const [key, item] of Object.entries(value)) {
    if (!FORBIDDEN.has(key)) out[key] = plainJson(item);
  }
  return out;
}

function message<K extends MessageType>(
  type: K,
  fields: { [F in keyof MessageOf<K>]?: fc.Arbitrary<MessageOf<K>[F]> },
  optional: readonly string[] = [],
): fc.Arbitrary<MessageOf<K>> {
  const model = { type: fc.constant(type), seq: uint, ...fields } as Record<string, fc.Arbitrary<unknown>>;
  const requiredKeys = Object.keys(model).filter((key) => !optional.includes(key));
  return fc.record(model, { requiredKeys, noNullPrototype: true }) as unknown as fc.Arbitrary<MessageOf<K>>;
}

/** A lease's samples for `microBatches` micro-batches: 1–3 samples each, of 1–6 bytes. */
const sampleRows = (microBatches: number): fc.Arbitrary<{ images: Uint8Array; labels: Uint8Array }> =>
  fc.tuple(fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 6 })).chain(([perMicroBatch, features]) => {
    const samples = microBatches * perMicroBatch;
    return fc.record({
      images: fc.uint8Array({ minLength: samples * features, maxLength: samples * features }),
      labels: fc.uint8Array({ minLength: samples, maxLength: samples }),
    });
  });

const idsWithLosses = ids.chain((microBatchIds) =>
  fc.tuple(fc.constant(microBatchIds), fc.array(finite, { minLength: microBatchIds.length, maxLength: microBatchIds.length })),
);

/**
 * One fast-check arbitrary per message type, producing valid messages (seq included, `re` on
 * replies) that survive encode → decode unchanged when no model limits are configured.
 */
export const messageArbitraries: { readonly [K in MessageType]: fc.Arbitrary<MessageOf<K>> } = {
  register: message('register', { name, pid: uint, backend: name, workerId: uint, shard: uint, session: ticket, samples: fc.constant(true as const) }, [
    'workerId',
    'shard',
    'session',
    'samples',
  ]),
  registered: message(
    'registered',
    { re: uint, workerId: uint, generation: uint, config: json, shardUrls: fc.array(text, { maxLength: 4 }), session: ticket },
    ['shardUrls', 'session'],
  ),
  shardReady: message('shardReady', { shard: uint, url: name }),
  heartbeat: message('heartbeat', { workerId: uint, generation: uint, sentAtMs: uint }),
  lease: ids.chain((microBatchIds) =>
    fc
      .tuple(
        message(
          'lease',
          {
            leaseId: uint,
            step: uint,
            microBatchIds: fc.constant(microBatchIds),
            modelVersion: uint,
            deadlineMs: uint,
            tickets: fc.array(ticket, { minLength: microBatchIds.length, maxLength: microBatchIds.length }),
          },
          ['tickets'],
        ),
        fc.option(sampleRows(microBatchIds.length), { nil: undefined }),
      )
      .map(([lease, rows]) => (rows ? { ...lease, ...rows } : lease)),
  ),
  leaseDone: idsWithLosses.chain(([microBatchIds, losses]) =>
    message('leaseDone', {
      leaseId: uint,
      step: uint,
      microBatchIds: fc.constant(microBatchIds),
      losses: fc.constant(losses),
      computeMs: finite.map(Math.abs),
    }),
  ),
  leaseRevoked: message('leaseRevoked', { leaseId: uint, reason: text }),
  shutdown: message('shutdown', { reason: text }),
  pull: fc
    .tuple(
      fc.boolean(),
      uint,
      fc.option(fc.tuple(small, fc.integer({ min: 1, max: 1_000_000 })), { nil: undefined }),
      fc.option(fc.boolean(), { nil: undefined }),
    )
    .chain(([sync, at, slice, raw]) =>
      message('pull', {
        ...(sync ? { step: fc.constant(at) } : { minVersion: fc.constant(at) }),
        ...(slice ? { offset: fc.constant(slice[0]), length: fc.constant(slice[1]) } : {}),
        ...(raw === undefined ? {} : { raw: fc.constant(raw) }),
      }),
    ),
  params: message('params', { re: uint, version: uint, step: uint, offset: small, values: tensor, bnState: tensor }, ['bnState']),
  push: message(
    'push',
    {
      step: uint,
      microBatchId: uint,
      version: uint,
      generation: uint,
      offset: small,
      grads: tensor,
      bnStats: tensor,
      loss: finite,
      samples: fc.integer({ min: 1, max: 4096 }),
      leaseId: uint,
      ticket,
    },
    ['bnStats', 'leaseId', 'ticket'],
  ),
  pushRun: fc.integer({ min: 1, max: 8 }).chain((count) =>
    message(
      'pushRun',
      {
        step: uint,
        microBatchId: uint,
        count: fc.constant(count),
        version: uint,
        generation: uint,
        offset: small,
        grads: tensor,
        losses: fc.array(finite, { minLength: count, maxLength: count }),
        leaseId: uint,
        tickets: fc.array(ticket, { minLength: count, maxLength: count }),
      },
      ['leaseId', 'tickets'],
    ),
  ),
  pushAck: message('pushAck', { re: uint, step: uint, microBatchId: uint, status: fc.constantFrom(...PUSH_STATUSES), reason: text }, ['reason']),
  stepApplied: message('stepApplied', { step: uint, version: uint, microBatchIds: fc.uniqueArray(uint, { maxLength: 12 }) }),
  stepRefused: message('stepRefused', { step: uint, version: uint, reason: text }),
  status: message('status', {}),
  statusReport: message('statusReport', { re: uint, role: fc.constantFrom(...ROLES), step: uint, version: uint, detail: json }),
  error: message('error', { re: uint, code: fc.constantFrom(...ERROR_CODES), message: text }, ['re']),
};

/** Any valid message. */
export const anyMessage: fc.Arbitrary<Message> = fc.oneof(...MESSAGE_TYPES.map((type) => messageArbitraries[type] as fc.Arbitrary<Message>));
