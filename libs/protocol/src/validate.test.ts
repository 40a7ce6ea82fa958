import { describe, expect, it } from 'vitest';
import { createDecoder } from './codec.js';
import { ProtocolError, type ErrorCode } from './errors.js';
import { concatParts, encodeFrame } from './frame.js';
import type { Message, MessageOf } from './messages.js';
import { checkReply, resolveValidateOptions, type ValidateOptions } from './validate.js';

/** Encodes without the sender-side schema check, as a hostile or buggy peer could. */
function frameOf(fields: Record<string, unknown>, tensors: Record<string, Float32Array | Uint8Array> = {}): Uint8Array {
  return concatParts(
    encodeFrame(
      fields,
      Object.entries(tensors).map(([field, data]) => ({ field, data })),
    ),
  );
}

function refusal(options: ValidateOptions, fields: Record<string, unknown>, tensors?: Record<string, Float32Array | Uint8Array>): ProtocolError {
  try {
    createDecoder(options)(frameOf(fields, tensors));
  } catch (error) {
    if (error instanceof ProtocolError) return error;
    throw error;
  }
  throw new Error('the frame was accepted');
}

const push = (grads: Float32Array, extra: Record<string, unknown> = {}) =>
  [{ type: 'push', seq: 9, step: 4, microBatchId: 1, version: 4, generation: 0, offset: 0, loss: 0.5, samples: 8, ...extra }, { grads }] as const;

describe('validation against the model', () => {
  it('refuses a push whose gradient length differs from paramCount (E_BAD_LENGTH)', () => {
    const error = refusal({ paramCount: 10 }, ...push(new Float32Array(9)));
    expect(error.code).toBe('E_BAD_LENGTH');
    expect(error.message).toContain('push.grads has 9 values, expected 10 for the range [0, 10)');
    expect(error.ref).toBe(9);
  });

  it('accepts exactly the owned slice of a shard and refuses any other offset (E_RANGE)', () => {
    const shard: ValidateOptions = { paramCount: 10, slice: { offset: 6, length: 4 } };
    const decoded = createDecoder(shard)(frameOf(...push(new Float32Array(4), { offset: 6 })));
    expect(decoded.type).toBe('push');
    const error = refusal(shard, ...push(new Float32Array(4), { offset: 5 }));
    expect(error.code).toBe('E_RANGE');
    expect(error.message).toContain('push.offset 5 is not the start of the range [6, 10)');
  });

  it('names the index and value of the first NaN or Infinity in a tensor (E_NON_FINITE)', () => {
    const grads = new Float32Array(10);
    grads[7] = NaN;
    grads[8] = Infinity;
    const error = refusal({ paramCount: 10 }, ...push(grads));
    expect(error.code).toBe('E_NON_FINITE');
    expect(error.message).toContain('push.grads[7] is NaN');
    const bn = new Float32Array([1, -Infinity]);
    const bnError = refusal({}, ...([push(new Float32Array(1))[0], { grads: new Float32Array(1), bnStats: bn }] as const));
    expect(bnError.message).toContain('push.bnStats[1] is -Infinity');
  });

  it('refuses NaN and Infinity in header numbers too (E_NON_FINITE)', () => {
    const [fields, tensors] = push(new Float32Array(1), { loss: NaN });
    expect(refusal({}, fields, tensors).code).toBe('E_NON_FINITE');
    const leaseDone = { type: 'leaseDone', seq: 1, leaseId: 1, step: 0, microBatchIds: [0], losses: [Infinity], computeMs: 1 };
    const error = refusal({}, leaseDone);
    expect(error.code).toBe('E_NON_FINITE');
    expect(error.message).toContain('header[0].losses[0] is Infinity');
  });

  it('checks the lengths of batch-norm tensors when told them', () => {
    const [fields] = push(new Float32Array(2));
    const error = refusal({ bnStatsLength: 5 }, fields, { grads: new Float32Array(2), bnStats: new Float32Array(4) });
    expect(error.code).toBe('E_BAD_LENGTH');
    expect(error.message).toContain('push.bnStats has 4 values, expected 5');
    const params = { type: 'params', seq: 1, re: 0, version: 0, step: 0, offset: 0 };
    const bnState = refusal({ bnStateLength: 3 }, params, { values: new Float32Array(1), bnState: new Float32Array(2) });
    expect(bnState.code).toBe('E_BAD_LENGTH');
  });

  it('wants one block of batch-norm moments and one loss per micro-batch of a pushRun', () => {
    const run = { type: 'pushRun', seq: 9, step: 4, microBatchId: 0, count: 3, version: 4, generation: 0, offset: 0, losses: [0.5, 0.25, 0.125] };
    const grads = new Float32Array(2);
    expect(createDecoder({ bnStatsLength: 5 })(frameOf(run, { grads, bnStats: new Float32Array(15) }))).toMatchObject({ type: 'pushRun', count: 3 });
    const bn = refusal({ bnStatsLength: 5 }, run, { grads, bnStats: new Float32Array(5) });
    expect(bn.code).toBe('E_BAD_LENGTH');
    expect(bn.message).toContain('pushRun.bnStats has 5 values, expected 15 (5 per micro-batch)');
    const losses = refusal({}, { ...run, losses: [0.5] }, { grads });
    expect(losses.code).toBe('E_BAD_LENGTH');
    expect(losses.message).toContain('pushRun.losses has 1 entries for count 3 micro-batches');
  });

  it('refuses params outside the owned range', () => {
    const params = { type: 'params', seq: 1, re: 0, version: 0, step: 0, offset: 8 };
    const error = refusal({ paramCount: 10 }, params, { values: new Float32Array(3) });
    expect(error.code).toBe('E_BAD_LENGTH');
    expect(error.message).toContain('params.values covers [8, 11), outside the range [0, 10)');
  });
});

describe('validation of fields', () => {
  const cases: [string, Record<string, unknown>, ErrorCode, string][] = [
    ['a negative step', { type: 'stepApplied', seq: 0, step: -1, version: 0, microBatchIds: [] }, 'E_RANGE', 'stepApplied.step'],
    ['a fractional version', { type: 'stepApplied', seq: 0, step: 1, version: 1.5, microBatchIds: [] }, 'E_RANGE', 'stepApplied.version'],
    ['a step beyond 2^53', { type: 'stepRefused', seq: 0, step: 2 ** 60, version: 0, reason: 'overflow' }, 'E_RANGE', 'stepRefused.step'],
    ['a negative seq', { type: 'status', seq: -3 }, 'E_RANGE', 'status.seq'],
    ['a string where a number belongs', { type: 'heartbeat', seq: 0, workerId: '1', generation: 0, sentAtMs: 0 }, 'E_MALFORMED', 'heartbeat.workerId'],
    ['an unknown field', { type: 'status', seq: 0, extra: true }, 'E_MALFORMED', 'Unrecognized key: "extra"'],
    ['a missing field', { type: 'shutdown', seq: 0 }, 'E_MALFORMED', 'shutdown.reason'],
    ['an unknown type', { type: 'teleport', seq: 4 }, 'E_UNKNOWN_TYPE', 'message type "teleport" is not one of register'],
    ['no type', { seq: 4 }, 'E_MALFORMED', 'message has no "type" field'],
    ['an unknown push status', { type: 'pushAck', seq: 0, re: 0, step: 0, microBatchId: 0, status: 'maybe' }, 'E_MALFORMED', 'pushAck.status'],
    [
      'an empty lease',
      { type: 'lease', seq: 0, leaseId: 0, step: 0, microBatchIds: [], modelVersion: 0, deadlineMs: 1 },
      'E_BAD_LENGTH',
      'lease.microBatchIds',
    ],
    [
      'a repeated micro-batch id',
      { type: 'lease', seq: 0, leaseId: 0, step: 0, microBatchIds: [3, 1, 3], modelVersion: 0, deadlineMs: 1 },
      'E_MALFORMED',
      'lists micro-batch 3 twice',
    ],
    [
      'losses that do not match the micro-batches',
      { type: 'leaseDone', seq: 0, leaseId: 0, step: 0, microBatchIds: [1, 2], losses: [0.1], computeMs: 5 },
      'E_BAD_LENGTH',
      'leaseDone.losses has 1 entries for 2 micro-batches',
    ],
    ['a pull with step and minVersion', { type: 'pull', seq: 0, step: 1, minVersion: 1 }, 'E_MALFORMED', 'exactly one of step'],
    ['a pull with neither', { type: 'pull', seq: 0 }, 'E_MALFORMED', 'exactly one of step'],
    ['a pull with offset only', { type: 'pull', seq: 0, step: 0, offset: 3 }, 'E_MALFORMED', 'both offset and length'],
    ['an empty pull slice', { type: 'pull', seq: 0, step: 0, offset: 3, length: 0 }, 'E_RANGE', 'pull.length is 0'],
    ['an unknown error code', { type: 'error', seq: 0, code: 'E_NOPE', message: 'x' }, 'E_MALFORMED', 'error.code'],
    ['a tensor where none belongs', { type: 'status', seq: 0, values: 1 }, 'E_MALFORMED', 'status'],
  ];
  for (const [what, fields, code, text] of cases) {
    it(`refuses ${what} with ${code}`, () => {
      const error = refusal({}, fields);
      expect(error.code).toBe(code);
      expect(error.message).toContain(text);
    });
  }

  it('refuses a pull slice outside the shard (E_RANGE)', () => {
    const error = refusal({ paramCount: 100, slice: { offset: 50, length: 50 } }, { type: 'pull', seq: 0, step: 0, offset: 40, length: 20 });
    expect(error.code).toBe('E_RANGE');
    expect(error.message).toContain('pull slice [40, 60) is outside the range [50, 100)');
  });

  it('refuses a tensor that is not a tensor field of its type, or doubles a header field', () => {
    const status = refusal({}, { type: 'status', seq: 2 }, { grads: new Float32Array(1) });
    expect(status.code).toBe('E_MALFORMED');
    expect(status.message).toContain('status carries tensor "grads", which is not a tensor field of status');
    expect(status.ref).toBe(2);
    const [fields] = push(new Float32Array(1));
    const doubled = refusal({}, { ...fields, grads: [1] }, { grads: new Float32Array(1) });
    expect(doubled.message).toContain('which is also a header field');
  });
});

describe("validation of a lease's samples", () => {
  const lease = { type: 'lease', seq: 7, leaseId: 1, step: 0, microBatchIds: [2, 0], modelVersion: 0, deadlineMs: 1 };
  // Two micro-batches of 2 samples of 3 bytes.
  const rows = { images: Uint8Array.from({ length: 12 }, (_, i) => i), labels: Uint8Array.of(1, 0, 9, 4) };

  it('accepts images and labels of the same number of samples per micro-batch and bytes per sample, as bytes', () => {
    const msg = createDecoder({})(frameOf(lease, rows));
    if (msg.type !== 'lease') throw new Error(`decoded a ${msg.type}`);
    expect(msg.images).toBeInstanceOf(Uint8Array);
    expect([...msg.images!]).toEqual([...rows.images]);
    expect([...msg.labels!]).toEqual([1, 0, 9, 4]);
  });

  const cases: [string, Record<string, Float32Array | Uint8Array>, ErrorCode, string][] = [
    ['images without labels', { images: rows.images }, 'E_MALFORMED', 'lease: carries images without labels'],
    ['labels without images', { labels: rows.labels }, 'E_MALFORMED', 'lease: carries labels without images'],
    [
      'labels not a multiple of the micro-batches',
      { ...rows, labels: Uint8Array.of(1, 2, 3) },
      'E_BAD_LENGTH',
      'lease.labels has 3 entries for 2 micro-batches',
    ],
    ['no samples at all', { images: new Uint8Array(0), labels: new Uint8Array(0) }, 'E_BAD_LENGTH', 'lease.labels has 0 entries'],
    ['images not a multiple of the samples', { ...rows, images: new Uint8Array(13) }, 'E_BAD_LENGTH', 'lease.images has 13 bytes for 4 samples'],
    ['samples of no bytes', { ...rows, images: new Uint8Array(0) }, 'E_BAD_LENGTH', 'lease.images has 0 bytes for 4 samples'],
    ['images sent as floats', { ...rows, images: new Float32Array(12) }, 'E_MALFORMED', 'lease.images: expected a Uint8Array'],
  ];
  for (const [what, tensors, code, text] of cases) {
    it(`refuses ${what} with ${code}`, () => {
      const error = refusal({}, lease, tensors);
      expect(error.code).toBe(code);
      expect(error.message).toContain(text);
      expect(error.ref).toBe(7);
    });
  }

  it('refuses bytes in a float field, and a byte tensor under a name of the prototype', () => {
    const params = { type: 'params', seq: 1, re: 0, version: 0, step: 0, offset: 0 };
    expect(refusal({}, params, { values: new Uint8Array(8) }).message).toContain('params.values: expected a Float32Array');
    const proto = refusal({}, lease, { ...rows, constructor: new Uint8Array(1) });
    expect(proto.code).toBe('E_MALFORMED');
    expect(proto.message).toContain('lease carries tensor "constructor", which is not a tensor field of lease');
  });

  it('takes `samples: true` in a register and nothing else', () => {
    const register = { type: 'register', seq: 3, name: 'w', pid: 1, backend: 'cpu' };
    expect(createDecoder({})(frameOf({ ...register, samples: true }))).toMatchObject({ samples: true });
    expect(refusal({}, { ...register, samples: false }).message).toContain('register.samples');
  });
});

describe('resolveValidateOptions', () => {
  it('defaults the owned range to the whole vector', () => {
    expect(resolveValidateOptions({ paramCount: 12 }).owned).toEqual({ offset: 0, length: 12 });
    expect(resolveValidateOptions({}).owned).toBeUndefined();
  });

  it('rejects impossible options at start-up with the option and value named', () => {
    expect(() => resolveValidateOptions({ slice: { offset: 0, length: 1 } })).toThrow(/slice is set without paramCount/);
    expect(() => resolveValidateOptions({ paramCount: 10, slice: { offset: 8, length: 4 } })).toThrow(/slice \[8, 12\) ends past paramCount 10/);
    expect(() => resolveValidateOptions({ paramCount: 0 })).toThrow(/paramCount must be a safe integer >= 1, got 0/);
    expect(() => resolveValidateOptions({ paramCount: 2.5 })).toThrow(RangeError);
    expect(() => resolveValidateOptions({ maxHeaderBytes: -1 })).toThrow(/maxHeaderBytes/);
  });
});

describe('checkReply', () => {
  const pull = { type: 'pull', seq: 5, step: 3, offset: 10, length: 4 } as MessageOf<'pull'>;
  const params = (fields: Partial<MessageOf<'params'>>): Message =>
    ({ type: 'params', seq: 1, re: 5, version: 3, step: 3, offset: 10, values: new Float32Array(4), ...fields }) as Message;
  const codeOf = (request: Message, reply: Message): ErrorCode | 'ok' => {
    try {
      checkReply(request, reply);
      return 'ok';
    } catch (error) {
      return (error as ProtocolError).code;
    }
  };

  it('accepts params for the slice and step pulled', () => {
    expect(codeOf(pull, params({}))).toBe('ok');
  });

  it('refuses params of another slice, step or too old a version', () => {
    expect(codeOf(pull, params({ values: new Float32Array(3) }))).toBe('E_BAD_LENGTH');
    expect(codeOf(pull, params({ offset: 11 }))).toBe('E_BAD_LENGTH');
    expect(codeOf(pull, params({ step: 2 }))).toBe('E_MALFORMED');
    const asyncPull = { type: 'pull', seq: 6, minVersion: 7 } as Message;
    expect(codeOf(asyncPull, params({ version: 6 }))).toBe('E_STALE');
    expect(codeOf(asyncPull, params({ version: 7 }))).toBe('ok');
  });

  it('refuses a pushAck for another micro-batch', () => {
    const [fields, tensors] = push(new Float32Array(1));
    const request = { ...fields, ...tensors } as unknown as Message;
    const ack = { type: 'pushAck', seq: 0, re: 9, step: 4, microBatchId: 1, status: 'accepted' } as Message;
    expect(codeOf(request, ack)).toBe('ok');
    expect(codeOf(request, { ...ack, microBatchId: 2 } as Message)).toBe('E_MALFORMED');
  });
});
