import type { MessagePort } from 'node:worker_threads';
import { PipeConnection, resolveConnectionOptions, type Connection, type Pipe } from './connection.js';
import { silentLogger } from '@dptrain/log';
import { peerInfo, type MemoryEndOptions } from './memory-pair.js';

/** What crosses the port besides frames. */
interface CloseNote {
  readonly close: true;
  readonly code: number;
  readonly reason: string;
}

/**
 * One end of a connection between two threads of a process (a co-located worker and its shard's
 * thread): frames cross a MessagePort, each as one ArrayBuffer transferred to the other thread
 * (moved, not copied), through the real codec and validator as on a socket. Either end's close(),
 * or the other thread ending (the port closes), closes both.
 *
 * @param self this end: its role, name, validation and largest frame it accepts
 * @param peer the other end, as the handshake would have described it
 */
export function connectPort(port: MessagePort, self: MemoryEndOptions, peer: MemoryEndOptions, jobId: string): Connection {
  const pipe = new PortPipe(port);
  // Its logs tell a thread's port from an in-memory pair of a test.
  pipe.connection = new PipeConnection(pipe, peerInfo(peer, jobId, 'thread port'), resolveConnectionOptions({ log: silentLogger, ...self }));
  return pipe.connection;
}

class PortPipe implements Pipe {
  connection!: PipeConnection;
  private open = true;

  constructor(private readonly port: MessagePort) {
    port.on('message', (data: ArrayBuffer | CloseNote) => {
      if (data instanceof ArrayBuffer) this.connection.receive(new Uint8Array(data));
      else this.closed(data.code, data.reason);
    });
    port.once('close', () => this.closed(1006, 'the other thread is gone'));
  }

  write(parts: Uint8Array[], length: number, done: (ok: boolean) => void): void {
    if (!this.open) {
      done(false);
      return;
    }
    // One buffer of our own to hand over: the parts may be views into buffers still in use here.
    const frame = new Uint8Array(length);
    let offset = 0;
    for (const part of parts) {
      frame.set(part, offset);
      offset += part.byteLength;
    }
    this.port.postMessage(frame.buffer, [frame.buffer]);
    done(true);
  }

  end(code: number, reason: string): void {
    if (!this.open) return;
    this.port.postMessage({ close: true, code, reason } satisfies CloseNote);
    // Closed on the next turn, so that the note leaves before the port does.
    this.closed(code, reason, false);
    setImmediate(() => this.port.close());
  }

  private closed(code: number, reason: string, closePort = true): void {
    if (!this.open) return;
    this.open = false;
    if (closePort) this.port.close();
    this.connection.closed(code, reason);
  }
}
