import { ProtocolError } from './errors.js';
import { decodeFrame, encodeFrame, type EncodeOptions, type FrameTensor, type TensorData } from './frame.js';
import { isMessageType, isTensorField, type Message } from './messages.js';
import { assertPlain } from './msgpack.js';
import type { WireStats } from './stats.js';
import { checkContent, checkShape, refuseType, resolveValidateOptions, seqOf, type ValidateOptions } from './validate.js';

/**
 * Encodes a message as frame parts (see frame.ts): the header part, then each tensor's own bytes.
 * The message is checked against its schema first, so a malformed message fails at the sender.
 * Tensor values are not scanned here (the receiver does); they must stay unmodified until the
 * parts are written.
 *
 * @throws ProtocolError E_UNKNOWN_TYPE, E_MALFORMED, E_RANGE, E_BAD_LENGTH or E_NON_FINITE
 */
export function encodeMessage(msg: Message, options?: EncodeOptions): Uint8Array[] {
  checkShape(msg as unknown as Record<string, unknown>);
  const body: Record<string, unknown> = {};
  const tensors: FrameTensor[] = [];
  for (const [key, value] of Object.entries(msg)) {
    if (value === undefined) continue;
    if (isTensorField(msg.type, key)) tensors.push({ field: key, data: value as TensorData });
    else body[key] = value;
  }
  assertPlain(body, msg.type, 0);
  return encodeFrame(body, tensors, options);
}

/** Decodes and validates one received frame; `stats` (optional) counts unaligned copies. */
export type Decoder = (bytes: Uint8Array, stats?: WireStats) => Message;

/**
 * A decoder for untrusted frames. In order: frame layout and header size, msgpack header (plain
 * data only: no extension objects, no `__proto__`, finite numbers, bounded depth), message type,
 * tensor table (known fields, in bounds, aligned), schema (types, non-negative safe integers,
 * lengths), then content (tensor lengths against `options`, distinct ids, finite tensor values).
 *
 * @param options what the receiver knows about the model; checked once here
 * @throws RangeError for invalid options (at creation)
 * @example
 * const decode = createDecoder({ paramCount: 235_146 });
 * const msg = decode(bytes); // throws ProtocolError with .code on any bad frame
 */
export function createDecoder(options: ValidateOptions = {}): Decoder {
  const limits = resolveValidateOptions(options);
  return (bytes, stats) => {
    const { body, tensors } = decodeFrame(bytes, limits.maxHeaderBytes, stats);
    if (tensors.length > 0) {
      const type = body.type;
      if (!isMessageType(type)) refuseType(body);
      for (const { field, data } of tensors) {
        if (!isTensorField(type, field) || Object.hasOwn(body, field)) {
          throw new ProtocolError(
            'E_MALFORMED',
            `${type} carries tensor "${field}", which is ${Object.hasOwn(body, field) ? 'also a header field' : 'not a tensor field of ' + type}`,
            { ref: seqOf(body) },
          );
        }
        body[field] = data;
      }
    }
    const msg = checkShape(body);
    checkContent(msg, limits);
    return msg;
  };
}

/** Decodes with no model-specific limits (lengths are not checked against a parameter count). */
export const decodeMessage: Decoder = createDecoder();
