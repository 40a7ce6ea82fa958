import { WebSocket, type RawData } from './ws.js';
import { PipeConnection, type PeerInfo, type Pipe, type ResolvedConnectionOptions } from './connection.js';
import { ProtocolError } from './errors.js';
import { concatParts } from './frame.js';

/**
 * Frames up to this size go out as one WebSocket frame (parts joined, one small copy). Bigger
 * frames go out as fragments of one message: the header, then each tensor's own memory, so the
 * sender never copies a tensor (measured in bench/wire.bench.ts).
 */
export const FRAGMENT_THRESHOLD = 64 * 1024;

export interface SocketLink {
  readonly connection: PipeConnection;
  /** Drops the socket without a close handshake. */
  readonly terminate: () => void;
}

/** Wraps an open ws socket (either side) as a PipeConnection. */
export function attachSocket(ws: WebSocket, peer: PeerInfo, options: ResolvedConnectionOptions): SocketLink {
  const pipe: Pipe = {
    write(parts, length, done) {
      if (ws.readyState !== WebSocket.OPEN) {
        done(false);
        return;
      }
      const callback = (error?: Error): void => done(!error);
      if (length <= FRAGMENT_THRESHOLD) {
        ws.send(concatParts(parts), { binary: true }, callback);
        return;
      }
      const fragments = coalesce(parts);
      for (let i = 0; i < fragments.length; i++) {
        const fin = i === fragments.length - 1;
        ws.send(fragments[i], { binary: true, fin }, fin ? callback : undefined);
      }
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

/** Joins runs of small parts (headers, padding, small tensors) so they do not become tiny frames. */
function coalesce(parts: readonly Uint8Array[]): Uint8Array[] {
  const out: Uint8Array[] = [];
  let run: Uint8Array[] = [];
  let runLength = 0;
  const flush = (): void => {
    if (run.length > 0) out.push(concatParts(run));
    run = [];
    runLength = 0;
  };
  for (const part of parts) {
    if (part.byteLength >= FRAGMENT_THRESHOLD) {
      flush();
      out.push(part);
    } else {
      run.push(part);
      runLength += part.byteLength;
      if (runLength >= FRAGMENT_THRESHOLD) flush();
    }
  }
  flush();
  return out;
}
