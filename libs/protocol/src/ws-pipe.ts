import { WebSocket, type RawData } from './ws.js';
import { PipeConnection, type PeerInfo, type Pipe, type ResolvedConnectionOptions } from './connection.js';
import { ProtocolError } from './errors.js';
import { concatParts } from './frame.js';
import { DEFAULT_MAX_BUFFERED_BYTES } from './limits.js';

/** What several connections share of the bytes they may queue for slow readers (a server's budget). */
export interface BufferBudget {
  readonly limit: number;
  /** Bytes queued on every connection now. */
  used(): number;
}

/**
 * Frames of at least this size are assembled in a reusable per-connection buffer. A fresh buffer
 * of a megabyte costs ~0.75 ms here in page faults, copying into a warm one ~0.03 ms, so reuse keeps
 * our one copy (header + tensors into one WebSocket frame) cheap. Smaller frames use Node's pool.
 */
export const REUSE_THRESHOLD = 64 * 1024;

/** Reusable send buffers kept per connection; each is busy until ws reports its write done. */
const MAX_FREE_BUFFERS = 2;

export interface SocketLink {
  readonly connection: PipeConnection;
  /** Drops the socket without a close handshake. */
  readonly terminate: () => void;
}

/**
 * Wraps an open ws socket (either side) as a PipeConnection.
 * @param ownMaxPayload this side's frame bound: what it sends is no bigger, so queues are bounded in its terms
 * @param budget the bytes this socket shares with others (a server's); none for a client
 */
export function attachSocket(ws: WebSocket, peer: PeerInfo, options: ResolvedConnectionOptions, ownMaxPayload: number, budget?: BufferBudget): SocketLink {
  const free: Uint8Array[] = [];
  const maxBuffered = options.maxBufferedBytes ?? Math.max(DEFAULT_MAX_BUFFERED_BYTES, 4 * ownMaxPayload);
  const pipe: Pipe = {
    write(parts, length, done) {
      if (ws.readyState !== WebSocket.OPEN) {
        done(false);
        return;
      }
      // A peer that stopped reading would otherwise have every reply it is owed queued here; the
      // shared budget is asked only once this socket has a backlog, which a reading peer rarely has.
      const queued = ws.bufferedAmount;
      const overBudget = budget !== undefined && queued > 0 && budget.used() + length > budget.limit;
      if (queued + length > maxBuffered || overBudget) {
        const bound = overBudget ? `the server's budget of ${budget.limit} bytes for all connections` : `the bound of ${maxBuffered}`;
        const error = new ProtocolError(
          'E_LIMIT',
          `${connection.describePeer()} does not read: ${queued} bytes wait for it and ${length} more would pass ${bound}`,
        );
        options.log({ level: 'warn', event: 'peer-not-reading', code: error.code, message: error.message, peer: connection.describePeer() });
        // No close handshake: the close frame would wait behind what it does not read.
        connection.close(error.closeCode, 'not reading its replies');
        ws.terminate();
        done(false);
        return;
      }
      // One part is either a header-only frame or a tensor sent in place: no copy needed.
      if (parts.length === 1 || length < REUSE_THRESHOLD) {
        ws.send(concatParts(parts), { binary: true }, (error) => done(!error));
        return;
      }
      const at = free.findIndex((buffer) => buffer.byteLength >= length);
      const buffer = at >= 0 ? free.splice(at, 1)[0] : new Uint8Array(length);
      copyParts(parts, buffer);
      ws.send(buffer.subarray(0, length), { binary: true }, (error) => {
        if (free.length < MAX_FREE_BUFFERS) free.push(buffer);
        done(!error);
      });
    },
    end(code, reason) {
      // Close reasons are limited to 123 bytes by the WebSocket protocol.
      ws.close(code, Buffer.from(reason).subarray(0, 123).toString());
    },
  };
  const connection = new PipeConnection(pipe, peer, options);
  ws.on('message', (data: RawData, isBinary: boolean) => {
    if (!isBinary || !(data instanceof Uint8Array)) {
      connection.refuse(new ProtocolError('E_MALFORMED', 'received a text frame; dptrain frames are binary'));
      return;
    }
    connection.receive(data);
  });
  ws.on('error', (error) => {
    const tooLarge = error.code === 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH';
    options.log({
      level: 'warn',
      event: tooLarge ? 'frame-too-large' : 'socket-error',
      code: tooLarge ? 'E_TOO_LARGE' : error.code,
      message: error.message,
      peer: connection.describePeer(),
    });
  });
  ws.on('close', (code, reason) => connection.closed(code, reason.toString()));
  return { connection, terminate: () => ws.terminate() };
}

function copyParts(parts: readonly Uint8Array[], target: Uint8Array): void {
  let offset = 0;
  for (const part of parts) {
    target.set(part, offset);
    offset += part.byteLength;
  }
}
