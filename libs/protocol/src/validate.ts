import type { z } from 'zod';
import { ProtocolError, type ErrorCode } from './errors.js';
import { firstNonFinite } from './finite.js';
import { DEFAULT_MAX_HEADER_BYTES, requireCount } from './limits.js';
import { MESSAGE_SCHEMAS, MESSAGE_TYPES, TENSOR_FIELDS, isMessageType, type Message, type MessageOf } from './messages.js';

/** What a receiver knows about the model, so it can check lengths and ranges. */
export interface ValidateOptions {
  /**
   * Length of the flat parameter vector. When set, parameter tensors (`params.values`,
   * `push.grads`) and pull slices are checked against the owned range. No check when unset.
   */
  readonly paramCount?: number;
  /**
   * The contiguous range [offset, offset + length) of the parameter vector this receiver owns (a
   * parameter-server shard): pushes must cover it exactly, pulls and params must fall inside it.
   * Needs paramCount. @default { offset: 0, length: paramCount }
   */
  readonly slice?: { readonly offset: number; readonly length: number };
  /** Exact length of `push.bnStats` when present. No check when unset. */
  readonly bnStatsLength?: number;
  /** Exact length of `params.bnState` when present. No check when unset. */
  readonly bnStateLength?: number;
  /** Longest msgpack header accepted, in bytes. @default 262_144 (DEFAULT_MAX_HEADER_BYTES) */
  readonly maxHeaderBytes?: number;
}

/** ValidateOptions checked and completed with defaults. */
export interface ResolvedValidateOptions {
  readonly owned: { readonly offset: number; readonly length: number } | undefined;
  readonly bnStatsLength: number | undefined;
  readonly bnStateLength: number | undefined;
  readonly maxHeaderBytes: number;
}

/**
 * Checks the options once, at start-up.
 * @throws RangeError naming the option and its value (slice without paramCount, slice outside the
 *   vector, non-integer counts)
 */
export function resolveValidateOptions(options: ValidateOptions = {}): ResolvedValidateOptions {
  const { paramCount, slice, bnStatsLength, bnStateLength } = options;
  const maxHeaderBytes = options.maxHeaderBytes ?? DEFAULT_MAX_HEADER_BYTES;
  requireCount('validateOptions.maxHeaderBytes', maxHeaderBytes, 1);
  if (bnStatsLength !== undefined) requireCount('validateOptions.bnStatsLength', bnStatsLength, 0);
  if (bnStateLength !== undefined) requireCount('validateOptions.bnStateLength', bnStateLength, 0);
  let owned: ResolvedValidateOptions['owned'];
  if (paramCount !== undefined) {
    requireCount('validateOptions.paramCount', paramCount, 1);
    owned = slice ?? { offset: 0, length: paramCount };
    requireCount('validateOptions.slice.offset', owned.offset, 0);
    requireCount('validateOptions.slice.length', owned.length, 1);
    if (owned.offset + owned.length > paramCount) {
      throw new RangeError(
        `validateOptions.slice [${owned.offset}, ${owned.offset + owned.length}) ends past paramCount ${paramCount}; help: give a slice inside [0, ${paramCount})`,
      );
    }
    owned = { offset: owned.offset, length: owned.length };
  } else if (slice !== undefined) {
    throw new RangeError('validateOptions.slice is set without paramCount; help: pass paramCount, the length of the whole parameter vector');
  }
  return { owned, bnStatsLength, bnStateLength, maxHeaderBytes };
}

/**
 * Checks a decoded body's type and fields against its schema.
 * @throws ProtocolError E_UNKNOWN_TYPE, E_MALFORMED, E_RANGE (numbers out of range, non-integers)
 *   or E_BAD_LENGTH (arrays too short or long), with `ref` set when `seq` was readable
 */
export function checkShape(body: Record<string, unknown>): Message {
  const type = body.type;
  if (!isMessageType(type)) refuseType(body);
  const result = MESSAGE_SCHEMAS[type].safeParse(body);
  if (result.success) return result.data as Message;
  const issue = result.error.issues[0];
  const path = issue.path.map(String).join('.');
  const value = issue.path.reduce<unknown>((node, key) => (node as Record<PropertyKey, unknown>)?.[key], body);
  const got = issue.code === 'unrecognized_keys' ? '' : ` (got ${preview(value)})`;
  throw new ProtocolError(codeOf(issue), `${type}${path ? '.' + path : ''}: ${issue.message}${got}`, {
    ref: seqOf(body),
  });
}

/**
 * Refuses a body whose `type` is missing (E_MALFORMED) or not a message type (E_UNKNOWN_TYPE).
 * @throws ProtocolError always
 */
export function refuseType(body: Record<string, unknown>): never {
  const type = body.type;
  const detail = type === undefined ? 'message has no "type" field' : `message type ${preview(type)} is not one of ${MESSAGE_TYPES.join(', ')}`;
  throw new ProtocolError(type === undefined ? 'E_MALFORMED' : 'E_UNKNOWN_TYPE', detail, { ref: seqOf(body) });
}

/**
 * Checks what the schema cannot: tensor lengths against the model and owned slice, finite tensor
 * values, matching array lengths, distinct micro-batch ids, exactly-one-of fields.
 * @throws ProtocolError E_BAD_LENGTH, E_RANGE, E_NON_FINITE or E_MALFORMED, with `ref` = msg.seq
 */
export function checkContent(msg: Message, limits: ResolvedValidateOptions): void {
  const fail = (code: ErrorCode, detail: string): never => {
    throw new ProtocolError(code, `${msg.type}${detail}`, { ref: msg.seq });
  };
  const owned = limits.owned;
  const ownedText = owned && `the range [${owned.offset}, ${owned.offset + owned.length}) this receiver owns`;
  switch (msg.type) {
    case 'push':
    case 'pushRun': {
      if (owned && msg.offset !== owned.offset) {
        fail('E_RANGE', `.offset ${msg.offset} is not the start of ${ownedText}`);
      }
      if (owned && msg.grads.length !== owned.length) {
        fail('E_BAD_LENGTH', `.grads has ${msg.grads.length} values, expected ${owned.length} for ${ownedText}`);
      }
      const blocks = msg.type === 'pushRun' ? msg.count : 1;
      if (msg.type === 'pushRun' && msg.losses.length !== msg.count) {
        fail('E_BAD_LENGTH', `.losses has ${msg.losses.length} entries for count ${msg.count} micro-batches`);
      }
      if (msg.bnStats && limits.bnStatsLength !== undefined && msg.bnStats.length !== blocks * limits.bnStatsLength) {
        fail(
          'E_BAD_LENGTH',
          `.bnStats has ${msg.bnStats.length} values, expected ${blocks * limits.bnStatsLength}${blocks > 1 ? ` (${limits.bnStatsLength} per micro-batch)` : ''}`,
        );
      }
      break;
    }
    case 'params':
      if (owned && (msg.offset < owned.offset || msg.offset + msg.values.length > owned.offset + owned.length)) {
        fail('E_BAD_LENGTH', `.values covers [${msg.offset}, ${msg.offset + msg.values.length}), outside ${ownedText}`);
      }
      if (msg.bnState && limits.bnStateLength !== undefined && msg.bnState.length !== limits.bnStateLength) {
        fail('E_BAD_LENGTH', `.bnState has ${msg.bnState.length} values, expected ${limits.bnStateLength}`);
      }
      break;
    case 'pull':
      if ((msg.step === undefined) === (msg.minVersion === undefined)) {
        fail('E_MALFORMED', ': give exactly one of step (sync) and minVersion (async)');
      }
      if ((msg.offset === undefined) !== (msg.length === undefined)) {
        fail('E_MALFORMED', ': give both offset and length of the slice, or neither');
      }
      if (msg.length === 0) fail('E_RANGE', '.length is 0; pull at least one value');
      if (owned && msg.offset !== undefined && msg.length !== undefined) {
        if (msg.offset < owned.offset || msg.offset + msg.length > owned.offset + owned.length) {
          fail('E_RANGE', ` slice [${msg.offset}, ${msg.offset + msg.length}) is outside ${ownedText}`);
        }
      }
      break;
    case 'lease':
      checkLeaseSamples(msg, fail);
      break;
    case 'leaseDone':
      if (msg.losses.length !== msg.microBatchIds.length) {
        fail('E_BAD_LENGTH', `.losses has ${msg.losses.length} entries for ${msg.microBatchIds.length} micro-batches`);
      }
      break;
    default:
      break;
  }
  if ('microBatchIds' in msg) {
    const duplicate = firstDuplicate(msg.microBatchIds);
    if (duplicate !== undefined) fail('E_MALFORMED', `.microBatchIds lists micro-batch ${duplicate} twice`);
  }
  for (const [field, dtype] of Object.entries(TENSOR_FIELDS[msg.type])) {
    const values = (msg as unknown as Record<string, Float32Array | undefined>)[field];
    if (!values || dtype !== 'f32') continue;
    const at = firstNonFinite(values);
    if (at >= 0) fail('E_NON_FINITE', `.${field}[${at}] is ${values[at]}`);
  }
}

/**
 * A lease's samples: images and labels together, the same number of samples for each micro-batch
 * and the same number of bytes for each sample. Whether those numbers are the job's is the
 * worker's to check (it knows the job).
 */
function checkLeaseSamples(msg: MessageOf<'lease'>, fail: (code: ErrorCode, detail: string) => never): void {
  const { images, labels, microBatchIds } = msg;
  if (images === undefined && labels === undefined) return;
  if (images === undefined || labels === undefined) {
    fail('E_MALFORMED', `: carries ${images ? 'images without labels' : 'labels without images'}; a lease's samples need both`);
  }
  if (labels.length === 0 || labels.length % microBatchIds.length !== 0) {
    fail(
      'E_BAD_LENGTH',
      `.labels has ${labels.length} entries for ${microBatchIds.length} micro-batches; expected the same positive number of samples for each`,
    );
  }
  if (images.length === 0 || images.length % labels.length !== 0) {
    fail('E_BAD_LENGTH', `.images has ${images.length} bytes for ${labels.length} samples; expected the same positive number of bytes for each`);
  }
}

function codeOf(issue: z.core.$ZodIssue): ErrorCode {
  if (issue.code === 'too_small' || issue.code === 'too_big') {
    return issue.origin === 'array' ? 'E_BAD_LENGTH' : issue.origin === 'string' ? 'E_MALFORMED' : 'E_RANGE';
  }
  if (issue.code === 'invalid_type' && issue.expected === 'int') return 'E_RANGE';
  return 'E_MALFORMED';
}

/** The body's `seq` when it is a valid sequence number (for tying an error to it). */
export function seqOf(body: Record<string, unknown>): number | undefined {
  const seq = body.seq;
  return typeof seq === 'number' && Number.isSafeInteger(seq) && seq >= 0 ? seq : undefined;
}

function firstDuplicate(ids: readonly number[]): number | undefined {
  const seen = new Set<number>();
  for (const id of ids) {
    if (seen.has(id)) return id;
    seen.add(id);
  }
  return undefined;
}

/** A short rendering of an offending value for error messages. */
export function preview(value: unknown): string {
  if (value instanceof Float32Array) return `Float32Array(${value.length})`;
  if (ArrayBuffer.isView(value)) return `${value.constructor.name}(${value.byteLength} bytes)`;
  let text: string;
  try {
    text = typeof value === 'string' ? JSON.stringify(value) : (JSON.stringify(value) ?? String(value));
  } catch {
    text = String(value);
  }
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}

/**
 * Checks that a reply answers its request: params cover the slice and step (or version) pulled,
 * and a pushAck names the pushed step and micro-batch.
 * @throws ProtocolError E_BAD_LENGTH, E_STALE or E_MALFORMED, with `ref` = the request's seq
 */
export function checkReply(request: Message, reply: Message): void {
  const fail = (code: ErrorCode, detail: string): never => {
    throw new ProtocolError(code, `${reply.type} answering ${request.type} seq ${request.seq}: ${detail}`, {
      ref: request.seq,
    });
  };
  if (request.type === 'pull' && reply.type === 'params') {
    if (request.offset !== undefined && request.length !== undefined) {
      if (reply.offset !== request.offset || reply.values.length !== request.length) {
        fail(
          'E_BAD_LENGTH',
          `covers [${reply.offset}, ${reply.offset + reply.values.length}), the pull asked for [${request.offset}, ${request.offset + request.length})`,
        );
      }
    }
    if (request.step !== undefined && reply.step !== request.step) {
      fail('E_MALFORMED', `is for step ${reply.step}, the pull asked for step ${request.step}`);
    }
    if (request.minVersion !== undefined && reply.version < request.minVersion) {
      fail('E_STALE', `has version ${reply.version}, the pull asked for at least ${request.minVersion}`);
    }
  } else if ((request.type === 'push' || request.type === 'pushRun') && reply.type === 'pushAck') {
    if (reply.step !== request.step || reply.microBatchId !== request.microBatchId) {
      fail(
        'E_MALFORMED',
        `acknowledges step ${reply.step} micro-batch ${reply.microBatchId}, the push was step ${request.step} micro-batch ${request.microBatchId}`,
      );
    }
  }
}
