import { createServer, connect, type Server, type Socket } from 'node:net';
import { FaultProxyError } from './errors.js';
import { mulberry32, randomSeed } from './prng.js';
import { isMessageRule, MessageRuleState, validateSchedule, type BlackholeRule, type DelayRule, type Direction, type FaultRule } from './schedule.js';
import { DEFAULT_MAX_FRAME_BYTES, FrameSplitter, isControl, preambleLength, type WsFrame } from './ws-frames.js';

export interface FaultProxyOptions {
  /** Where accepted connections are forwarded. */
  readonly target: { readonly host?: string; readonly port: number };
  /** The faults, applied in this order to each message. @default [] (a transparent proxy) */
  readonly schedule?: readonly FaultRule[];
  /** Seed of the mulberry32 generator every probabilistic decision draws from. @default a random seed, kept in `seed` */
  readonly seed?: number;
  /** `websocket` splits frames (needed by per-message faults); `tcp` forwards chunks as they come. @default 'websocket' */
  readonly protocol?: 'websocket' | 'tcp';
  /** @default '127.0.0.1' */
  readonly host?: string;
  /** @default 0 (a free port) */
  readonly port?: number;
  /** Largest frame buffered whole. @default 64 MiB */
  readonly maxFrameBytes?: number;
}

/** One fault the proxy applied, for logs and assertions. */
export interface FaultEvent {
  readonly atMs: number;
  readonly kind: 'duplicate' | 'drop' | 'reset' | 'blackhole-start' | 'blackhole-end' | 'stream-error';
  readonly connection?: number;
  readonly direction?: Direction;
  /** Bytes of the message concerned (payload of its first frame). */
  readonly payloadBytes?: number;
  readonly detail?: string;
}

export interface FaultProxyStats {
  /** Connections accepted so far. */
  connections: number;
  /** Data messages (text or binary, counted at their first frame), per direction. */
  messages: Record<Direction, number>;
  bytes: Record<Direction, number>;
  duplicated: number;
  dropped: number;
  resets: number;
  /** Frames (or chunks, for protocol 'tcp') discarded by black holes. */
  blackholed: number;
  /** Frames (or chunks) held back by a delay rule. */
  delayed: number;
}

export interface FaultProxy {
  readonly host: string;
  readonly port: number;
  /** The seed in use: print it, and pass it back to replay the same decisions. */
  readonly seed: number;
  readonly stats: Readonly<FaultProxyStats>;
  readonly events: readonly FaultEvent[];
  /** Starts a black hole now, for `forMs` (on top of the schedule's). */
  blackhole(forMs: number): void;
  /** Ends every black hole now; closes seen during them reach the other side. */
  heal(): void;
  /** Stops listening and destroys every connection and timer. */
  close(): Promise<void>;
}

/**
 * A TCP proxy that injects faults between a client (a worker) and a server (a shard or the
 * coordinator). With protocol 'websocket' it passes the HTTP upgrade through, then splits each
 * direction into whole WebSocket frames (RFC 6455 §5.2; payloads stay masked and are never
 * interpreted), so it can delay, duplicate or drop whole protocol messages, discard frames during
 * a black hole, or reset both sockets in the middle of a frame. Decisions follow the schedule in
 * order and draw from one seeded mulberry32 generator, so one seed replays one run's faults for
 * the same message order.
 *
 * @throws FaultProxyError E_SCHEDULE for a rule out of range (before anything listens)
 * @example
 * const proxy = await createFaultProxy({ target: { port: shardPort }, seed: 7,
 *   schedule: [{ kind: 'duplicate', minPayloadBytes: 1024, messages: [2] }] });
 * console.log(`fault proxy on ${proxy.port}, seed ${proxy.seed}`);
 * // … point a worker at proxy.port …
 * await proxy.close();
 */
export async function createFaultProxy(options: FaultProxyOptions): Promise<FaultProxy> {
  const schedule = options.schedule ?? [];
  const protocol = options.protocol ?? 'websocket';
  validateSchedule(schedule, protocol);
  if (!Number.isInteger(options.target.port) || options.target.port < 1 || options.target.port > 65535) {
    throw new FaultProxyError('E_SCHEDULE', `target.port ${options.target.port} is not a port; give the listening port of the server to proxy (1..65535)`);
  }
  const seed = options.seed ?? randomSeed();
  const random = mulberry32(seed);
  const started = Date.now();
  const stats: FaultProxyStats = {
    connections: 0,
    messages: { 'client-to-server': 0, 'server-to-client': 0 },
    bytes: { 'client-to-server': 0, 'server-to-client': 0 },
    duplicated: 0,
    dropped: 0,
    resets: 0,
    blackholed: 0,
    delayed: 0,
  };
  const events: FaultEvent[] = [];
  const record = (event: Omit<FaultEvent, 'atMs'>): void => void events.push({ atMs: Date.now() - started, ...event });
  const messageRules = schedule.filter(isMessageRule).map((rule) => new MessageRuleState(rule));
  const delays = schedule.filter((r): r is DelayRule => r.kind === 'delay');
  const holes: { from: number; until: number; ended?: boolean }[] = schedule
    .filter((r): r is BlackholeRule => r.kind === 'blackhole')
    .map((r) => ({ from: started + r.atMs, until: started + r.atMs + r.forMs }));
  const timers = new Set<NodeJS.Timeout>();
  const later = (ms: number, fn: () => void): void => {
    const timer = setTimeout(() => {
      timers.delete(timer);
      fn();
    }, ms);
    timers.add(timer);
  };
  const holeUntil = (now: number): number => {
    let until = 0;
    for (const h of holes) if (now >= h.from && now < h.until) until = Math.max(until, h.until);
    return until;
  };
  const closeHole = (h: { until: number; ended?: boolean }, detail?: string): void => {
    if (h.ended) return;
    h.ended = true;
    record({ kind: 'blackhole-end', ...(detail ? { detail } : {}) });
  };
  for (const h of holes) {
    later(h.from - started, () => record({ kind: 'blackhole-start', detail: `for ${h.until - h.from} ms` }));
    later(h.until - started, () => closeHole(h));
  }
  const sockets = new Set<Socket>();
  const afterHole = new Set<() => void>();
  const endHoles = (): void => {
    for (const run of [...afterHole]) run();
    afterHole.clear();
  };

  const serve = (client: Socket): void => {
    const connection = ++stats.connections;
    const upstream = connect({ host: options.target.host ?? '127.0.0.1', port: options.target.port });
    sockets.add(client).add(upstream);
    let torn = false;
    const teardown = (how: 'reset' | 'destroy'): void => {
      if (torn) return;
      torn = true;
      sockets.delete(client);
      if (how === 'reset' && !client.destroyed) client.resetAndDestroy();
      else client.destroy();
      // The server must see the cut frame: an RST could discard it from its receive queue, so
      // the server's side ends with a FIN right after the cut bytes.
      if (how === 'reset' && !upstream.destroyed) {
        upstream.end(() => {
          upstream.destroy();
          sockets.delete(upstream);
        });
      } else {
        upstream.destroy();
        sockets.delete(upstream);
      }
    };
    // A peer that leaves during a black hole is seen leaving only when the hole ends.
    const onGone = (): void => {
      const until = holeUntil(Date.now());
      if (until === 0) return teardown('destroy');
      const run = (): void => {
        afterHole.delete(run);
        teardown('destroy');
      };
      afterHole.add(run);
      later(until - Date.now(), run);
    };
    for (const s of [client, upstream]) {
      s.on('error', () => undefined);
      s.on('close', onGone);
    }
    const context: PipeContext = {
      connection,
      protocol,
      stats,
      random,
      messageRules,
      delays,
      holeUntil,
      record,
      later,
      teardown,
      maxFrameBytes: options.maxFrameBytes ?? DEFAULT_MAX_FRAME_BYTES,
    };
    const up = new Pipe('client-to-server', client, upstream, context);
    const down = new Pipe('server-to-client', upstream, client, context);
    client.on('data', (chunk: Buffer) => up.receive(chunk));
    upstream.on('data', (chunk: Buffer) => down.receive(chunk));
  };

  const server: Server = createServer(serve);
  await new Promise<void>((resolve, reject) => {
    server.once('error', (error) =>
      reject(
        new FaultProxyError('E_SCHEDULE', `cannot listen on ${options.host ?? '127.0.0.1'}:${options.port ?? 0} (${error.message}); give a free port or 0`, {
          cause: error,
        }),
      ),
    );
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => resolve());
  });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    host: options.host ?? '127.0.0.1',
    port,
    seed,
    stats,
    events,
    blackhole(forMs: number) {
      if (!(Number.isFinite(forMs) && forMs >= 0)) throw new FaultProxyError('E_SCHEDULE', `blackhole(${forMs}): give a duration in ms ≥ 0`);
      const now = Date.now();
      const hole = { from: now, until: now + forMs };
      holes.push(hole);
      record({ kind: 'blackhole-start', detail: `for ${forMs} ms` });
      later(forMs, () => closeHole(hole));
    },
    heal() {
      const now = Date.now();
      for (const h of holes) {
        if (now < h.from || now >= h.until) continue;
        closeHole(h, 'healed');
        h.until = now;
      }
      endHoles();
    },
    async close() {
      for (const t of timers) clearTimeout(t);
      timers.clear();
      for (const s of sockets) s.destroy();
      sockets.clear();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

interface PipeContext {
  readonly connection: number;
  readonly protocol: 'websocket' | 'tcp';
  readonly stats: FaultProxyStats;
  readonly random: () => number;
  readonly messageRules: readonly MessageRuleState[];
  readonly delays: readonly DelayRule[];
  readonly maxFrameBytes: number;
  holeUntil(now: number): number;
  record(event: Omit<FaultEvent, 'atMs'>): void;
  later(ms: number, fn: () => void): void;
  teardown(how: 'reset' | 'destroy'): void;
}

/** What the rules decided for the message whose frames are arriving. */
interface MessageFate {
  drop: boolean;
  /** The message was cut by a reset; its remaining frames are not counted as dropped. */
  reset?: boolean;
  /** Frames kept to be sent again after the message's last frame. */
  copies: Buffer[] | undefined;
}

/** One direction of one connection: preamble, frame splitting, the faults, ordered output. */
class Pipe {
  private preamble: Buffer | undefined = Buffer.alloc(0);
  private raw: boolean;
  private readonly splitter: FrameSplitter;
  private fate: MessageFate = { drop: false, copies: undefined };
  /** When the last unit leaves (delays keep the order, so each waits for the one before). */
  private releaseAt = 0;

  constructor(
    private readonly direction: Direction,
    private readonly from: Socket,
    private readonly to: Socket,
    private readonly ctx: PipeContext,
  ) {
    this.raw = ctx.protocol === 'tcp';
    if (this.raw) this.preamble = undefined;
    this.splitter = new FrameSplitter(ctx.maxFrameBytes);
  }

  receive(chunk: Buffer): void {
    this.ctx.stats.bytes[this.direction] += chunk.length;
    try {
      if (this.raw) return this.emit(chunk);
      if (this.preamble) {
        const data = Buffer.concat([this.preamble, chunk]);
        const end = preambleLength(data);
        if (end < 0) {
          this.preamble = data;
          return;
        }
        this.preamble = undefined;
        const head = data.subarray(0, end);
        // A refused upgrade (401, 400, …) is plain HTTP to the end: pass it through untouched.
        if (this.direction === 'server-to-client' && !/^HTTP\/1\.[01] 101/.test(head.toString('latin1', 0, 16))) this.raw = true;
        this.emit(head);
        chunk = data.subarray(end);
        if (this.raw) return chunk.length > 0 ? this.emit(chunk) : undefined;
      }
      for (const frame of this.splitter.push(chunk)) this.frame(frame);
    } catch (error) {
      this.ctx.record({ kind: 'stream-error', connection: this.ctx.connection, direction: this.direction, detail: (error as Error).message });
      this.ctx.teardown('destroy');
    }
  }

  private frame(frame: WsFrame): void {
    if (isControl(frame)) return this.emit(frame.bytes);
    if (frame.opcode !== 0) this.begin(frame);
    if (this.fate.drop) {
      if (frame.fin && !this.fate.reset) this.ctx.stats.dropped++;
      return;
    }
    this.emit(frame.bytes);
    if (this.fate.copies) {
      this.fate.copies.push(frame.bytes);
      if (frame.fin) {
        for (const copy of this.fate.copies) this.emit(copy);
        this.fate.copies = undefined;
        this.ctx.stats.duplicated++;
      }
    }
  }

  /** The first frame of a message: every message rule decides, in schedule order. */
  private begin(frame: WsFrame): void {
    const { ctx } = this;
    ctx.stats.messages[this.direction]++;
    const message = { direction: this.direction, connection: ctx.connection, payloadBytes: frame.payloadLength };
    this.fate = { drop: false, copies: undefined };
    for (const state of ctx.messageRules) {
      if (!state.hits(message, ctx.random)) continue;
      const base = { connection: ctx.connection, direction: this.direction, payloadBytes: frame.payloadLength };
      if (state.rule.kind === 'drop') {
        this.fate.drop = true;
        ctx.record({ kind: 'drop', ...base });
      } else if (state.rule.kind === 'duplicate') {
        this.fate.copies ??= [];
        ctx.record({ kind: 'duplicate', ...base });
      } else {
        const cut = Math.min(frame.bytes.length - 1, Math.max(1, Math.floor(frame.bytes.length * (state.rule.fraction ?? 0.5))));
        ctx.record({ kind: 'reset', ...base, detail: `after ${cut} of ${frame.bytes.length} frame bytes` });
        this.emit(frame.bytes.subarray(0, cut));
        this.emit('reset');
        this.fate = { drop: true, reset: true, copies: undefined };
        return;
      }
    }
  }

  /** Sends a unit now, or after its delay, or never inside a black hole; keeps the order. */
  private emit(unit: Buffer | 'reset'): void {
    const { ctx } = this;
    const now = Date.now();
    let wait = 0;
    for (const d of ctx.delays) {
      if (d.direction !== undefined && d.direction !== this.direction) continue;
      wait += d.ms + (d.jitterMs ? ctx.random() * d.jitterMs : 0);
    }
    if (wait > 0) ctx.stats.delayed++;
    const at = Math.max(now + wait, this.releaseAt);
    this.releaseAt = at;
    if (at <= now) return this.deliver(unit);
    ctx.later(at - now, () => this.deliver(unit));
  }

  private deliver(unit: Buffer | 'reset'): void {
    const { ctx } = this;
    if (unit === 'reset') {
      ctx.stats.resets++;
      ctx.teardown('reset');
      return;
    }
    if (ctx.holeUntil(Date.now()) > 0) {
      ctx.stats.blackholed++;
      return;
    }
    if (this.to.destroyed) return;
    if (!this.to.write(unit)) {
      this.from.pause();
      this.to.once('drain', () => this.from.resume());
    }
  }
}
