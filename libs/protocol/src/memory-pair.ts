import { PipeConnection, resolveConnectionOptions, type Connection, type ConnectionOptions, type PeerInfo, type Pipe } from './connection.js';
import { concatParts } from './frame.js';
import { DEFAULT_MAX_PAYLOAD, maxPayloadFor } from './limits.js';
import { silentLogger } from '@dptrain/log';
import { PROTOCOL_VERSION, type Role } from './messages.js';

/** One end of an in-memory pair. Its `log` defaults to silentLogger (tests listen to `rejected`). */
export interface MemoryEndOptions extends ConnectionOptions {
  readonly role: Role;
  readonly name?: string;
  /** @default maxPayloadFor(validateOptions.paramCount) when paramCount is set, else 1 MiB */
  readonly maxPayload?: number;
  /**
   * Deliver frames to this end at byte offset 2 of a larger buffer, as a transport handing over a
   * slice would, so the decoder's one-copy path for unaligned tensors runs. @default false
   */
  readonly misalign?: boolean;
}

export interface MemoryPairOptions {
  readonly a: MemoryEndOptions;
  readonly b: MemoryEndOptions;
  /** @default 'test-job' */
  readonly jobId?: string;
}

export interface MemoryPair {
  readonly a: Connection;
  readonly b: Connection;
  /** Delivers raw bytes to one end as if its peer had sent them (for hostile-input tests). */
  inject(into: Connection, frame: Uint8Array): void;
}

/**
 * Two connected Connections without sockets. Frames go through the real codec and validator, are
 * copied (so neither side aliases the other's tensors) and are delivered in order on the microtask
 * queue, which vitest's fake timers leave running; request timeouts use setTimeout as on sockets.
 * close() on either end closes both, after the frames already sent have been delivered.
 *
 * @example
 * const { a: worker, b: ps } = createMemoryPair({ a: { role: 'worker' }, b: { role: 'ps', validateOptions: { paramCount: 10 } } });
 */
export function createMemoryPair(options: MemoryPairOptions): MemoryPair {
  const jobId = options.jobId ?? 'test-job';
  const link = { closed: false };
  const a = new MemoryEnd(link, options.a.misalign ?? false);
  const b = new MemoryEnd(link, options.b.misalign ?? false);
  a.peer = b;
  b.peer = a;
  a.connection = new PipeConnection(a, peerInfo(options.b, jobId), resolveConnectionOptions({ log: silentLogger, ...options.a }));
  b.connection = new PipeConnection(b, peerInfo(options.a, jobId), resolveConnectionOptions({ log: silentLogger, ...options.b }));
  return {
    a: a.connection,
    b: b.connection,
    inject(into, frame) {
      const end = into === a.connection ? a : into === b.connection ? b : undefined;
      if (!end) throw new RangeError('inject: the connection is not an end of this pair; help: pass pair.a or pair.b');
      end.deliver(frame);
    },
  };
}

/** What one end of an in-process link knows of the other (address 'memory'). */
export function peerInfo(end: MemoryEndOptions, jobId: string, address = 'memory'): PeerInfo {
  const paramCount = end.validateOptions?.paramCount;
  return {
    role: end.role,
    jobId,
    version: PROTOCOL_VERSION,
    name: end.name,
    address,
    maxPayload: end.maxPayload ?? (paramCount !== undefined ? maxPayloadFor(paramCount) : DEFAULT_MAX_PAYLOAD),
  };
}

class MemoryEnd implements Pipe {
  connection!: PipeConnection;
  peer!: MemoryEnd;

  constructor(
    private readonly link: { closed: boolean },
    private readonly misalign: boolean,
  ) {}

  write(parts: Uint8Array[], _length: number, done: (ok: boolean) => void): void {
    if (this.link.closed) {
      done(false);
      return;
    }
    this.peer.deliver(concatParts(parts));
    done(true);
  }

  end(code: number, reason: string): void {
    if (this.link.closed) return;
    this.link.closed = true;
    queueMicrotask(() => {
      this.connection.closed(code, reason);
      this.peer.connection.closed(code, reason);
    });
  }

  deliver(frame: Uint8Array): void {
    const shift = this.misalign ? 2 : 0;
    const copy = new Uint8Array(frame.byteLength + shift).subarray(shift);
    copy.set(frame);
    queueMicrotask(() => this.connection.receive(copy));
  }
}
