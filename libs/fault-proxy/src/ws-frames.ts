import { FaultProxyError } from './errors.js';

/** One WebSocket frame as it crossed the wire (RFC 6455 §5.2), header and payload together. */
export interface WsFrame {
  readonly fin: boolean;
  /** 0 continuation, 1 text, 2 binary, 8 close, 9 ping, 10 pong. */
  readonly opcode: number;
  /** Client frames are masked, server frames are not. */
  readonly masked: boolean;
  readonly headerLength: number;
  readonly payloadLength: number;
  /** The frame's bytes, exactly as received (still masked). */
  readonly bytes: Buffer;
}

/** Control frames (close, ping, pong) are never part of a message. */
export function isControl(frame: WsFrame): boolean {
  return frame.opcode >= 8;
}

/** A frame too large to buffer is refused. @default 64 MiB */
export const DEFAULT_MAX_FRAME_BYTES = 64 * 1024 * 1024;

/**
 * Splits a byte stream into whole WebSocket frames without unmasking or interpreting payloads.
 * The header is 2 bytes, then a 16-bit (length 126) or 64-bit (length 127) extended length, then a
 * 4-byte masking key when the mask bit is set, then the payload. Bytes of an incomplete frame are
 * kept until the rest arrives, so chunk boundaries may fall anywhere.
 */
export class FrameSplitter {
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  /** Bytes the incomplete frame at the front needs, so a large frame is joined once, not per chunk. */
  private needed = 0;

  constructor(private readonly maxFrameBytes: number = DEFAULT_MAX_FRAME_BYTES) {}

  /** Bytes received but not yet part of a whole frame. */
  get buffered(): number {
    return this.pendingBytes;
  }

  /**
   * Appends `chunk` and returns every frame it completes, in order.
   * @throws FaultProxyError E_WS_FRAME for a header RFC 6455 forbids, E_WS_TOO_LARGE past the limit
   */
  push(chunk: Buffer): WsFrame[] {
    this.pending.push(chunk);
    this.pendingBytes += chunk.length;
    if (this.pendingBytes < this.needed) return [];
    let data = this.pending.length === 1 ? this.pending[0] : Buffer.concat(this.pending, this.pendingBytes);
    const frames: WsFrame[] = [];
    for (;;) {
      const frame = this.next(data);
      if (!frame) break;
      frames.push(frame);
      data = data.subarray(frame.bytes.length);
    }
    this.pending = data.length > 0 ? [data] : [];
    this.pendingBytes = data.length;
    this.needed = this.expected(data);
    return frames;
  }

  /** The whole length of the frame at the front once its header is readable, else 0. */
  private expected(data: Buffer): number {
    if (data.length < 2) return 0;
    const short = data[1] & 0x7f;
    const mask = data[1] & 0x80 ? 4 : 0;
    if (short < 126) return 2 + mask + short;
    if (short === 126) return data.length < 4 ? 0 : 4 + mask + data.readUInt16BE(2);
    return data.length < 10 ? 0 : 10 + mask + data.readUInt32BE(2) * 4_294_967_296 + data.readUInt32BE(6);
  }

  private next(data: Buffer): WsFrame | undefined {
    if (data.length < 2) return undefined;
    const fin = (data[0] & 0x80) !== 0;
    const opcode = data[0] & 0x0f;
    const masked = (data[1] & 0x80) !== 0;
    const short = data[1] & 0x7f;
    let headerLength = 2;
    let payloadLength = short;
    if (short === 126) {
      if (data.length < 4) return undefined;
      payloadLength = data.readUInt16BE(2);
      headerLength = 4;
    } else if (short === 127) {
      if (data.length < 10) return undefined;
      const high = data.readUInt32BE(2);
      if (high & 0x8000_0000) {
        throw new FaultProxyError(
          'E_WS_FRAME',
          `a 64-bit payload length with its most significant bit set (0x${data.subarray(2, 10).toString('hex')}); RFC 6455 §5.2 forbids it — the peer is not speaking WebSocket`,
        );
      }
      payloadLength = high * 4_294_967_296 + data.readUInt32BE(6);
      headerLength = 10;
    }
    if (masked) headerLength += 4;
    const total = headerLength + payloadLength;
    if (total > this.maxFrameBytes) {
      throw new FaultProxyError(
        'E_WS_TOO_LARGE',
        `a frame of ${total} bytes exceeds maxFrameBytes ${this.maxFrameBytes}; raise maxFrameBytes or use protocol 'tcp' (no framing)`,
      );
    }
    if (data.length < total) return undefined;
    return { fin, opcode, masked, headerLength, payloadLength, bytes: data.subarray(0, total) };
  }
}

/** The HTTP upgrade request or response that precedes the frames. @default 64 KiB */
export const MAX_PREAMBLE_BYTES = 64 * 1024;

/**
 * Finds the end of the HTTP header block (`\r\n\r\n`) at the start of `data`.
 * @returns the byte length of the preamble including the blank line, or -1 while it is incomplete
 * @throws FaultProxyError E_WS_TOO_LARGE when no header end appears within MAX_PREAMBLE_BYTES
 */
export function preambleLength(data: Buffer): number {
  const end = data.indexOf('\r\n\r\n');
  if (end >= 0) return end + 4;
  if (data.length > MAX_PREAMBLE_BYTES) {
    throw new FaultProxyError(
      'E_WS_TOO_LARGE',
      `no end of HTTP headers within ${MAX_PREAMBLE_BYTES} bytes; the peer is not opening a WebSocket (use protocol 'tcp' for other traffic)`,
    );
  }
  return -1;
}
