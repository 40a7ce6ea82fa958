import { ParameterServer } from '@dptrain/cluster';
import type { JobDescription } from '@dptrain/job';
import type { Connection, ConnectionEvents, Message, Outgoing, ReplyOf, RequestType } from '@dptrain/protocol';
import { encodeAndCarry, inProcess, receiveCost, receiveHelpers, sendCost, type Node, type World } from './world.js';

/** Bytes of the tensors a message carries (gradients, parameters, batch-norm moments). */
export function tensorBytes(msg: Message | Outgoing): number {
  let bytes = 0;
  for (const value of Object.values(msg)) if (value instanceof Float32Array) bytes += value.byteLength;
  return bytes;
}

/**
 * The connection a shard answers on, as the shard's process sees it: each reply first costs the
 * shard its encoding (ahead of requests still queued, as a Node process writes what it owes before
 * it reads on), and only then reaches the real connection. The tensors it carries are views of
 * the shard's parameters: nothing changes them before the reply is written, because the shard
 * handles no other message in between.
 */
class ShardSide implements Connection {
  constructor(
    private readonly inner: Connection,
    private readonly shard: SimShard,
    /** The connection stays in the process (a co-located worker's own shard): no transport cost. */
    private readonly local: boolean,
  ) {}

  get peer() {
    return this.inner.peer;
  }
  get stats() {
    return this.inner.stats;
  }
  get isOpen(): boolean {
    return this.inner.isOpen;
  }
  send(msg: Outgoing): Promise<boolean> {
    return this.shard.afterEncoding(msg, () => this.inner.send(msg), this.local);
  }
  request<M extends Outgoing<RequestType>>(msg: M, options?: { timeoutMs?: number }): Promise<ReplyOf<M['type']>> {
    return this.inner.request(msg, options);
  }
  reply(to: Message, msg: Outgoing): Promise<boolean> {
    return this.shard.afterEncoding(msg, () => this.inner.reply(to, msg), this.local);
  }
  replyError(to: Message | undefined, error: Parameters<Connection['replyError']>[1]): Promise<boolean> {
    return this.shard.afterEncoding({ type: 'error' } as Outgoing, () => this.inner.replyError(to, error), this.local);
  }
  close(code?: number, reason?: string): void {
    this.inner.close(code, reason);
  }
  on<E extends keyof ConnectionEvents>(event: E, listener: (...args: ConnectionEvents[E]) => void): this {
    this.inner.on(event, listener);
    return this;
  }
  once<E extends keyof ConnectionEvents>(event: E, listener: (...args: ConnectionEvents[E]) => void): this {
    this.inner.once(event, listener);
    return this;
  }
  off<E extends keyof ConnectionEvents>(event: E, listener: (...args: ConnectionEvents[E]) => void): this {
    this.inner.off(event, listener);
    return this;
  }
}

/**
 * A real ParameterServer behind a single-server queue: each message a worker sends it waits its
 * turn, costs its decoding plus (for a push) folding the slice into the sum, and then the real
 * `handle` runs. An optimizer step the real code takes while handling a push costs the measured
 * apply time ahead of anything the shard sends after it (held pulls' replies, stepApplied). The
 * write-ahead log append of a durable shard costs its measured time where the real code makes it:
 * in sync mode without clipping after the replies and before stepApplied, otherwise before the
 * update. A co-located shard's node is a thread on its worker's host; the worker's own connection
 * costs it the codec but no transport (world.ts, inProcess).
 */
export class SimShard {
  readonly ps: ParameterServer;
  private readonly sliceFloats: number;
  /** Whether the real shard logs an update before making it (async, or clipping) or after its replies. */
  private readonly logFirst: boolean;
  /** The newest version whose update has been charged. */
  private charged: number;

  constructor(
    private readonly world: World,
    readonly node: Node,
    job: JobDescription,
    shard: number,
    /** The shard's end of its connection to the coordinator (register, stepApplied, raw pulls). */
    private readonly toCoordinator: Connection,
  ) {
    this.ps = new ParameterServer({ job, shard, onApplied: (applied) => this.applied(applied) });
    this.sliceFloats = this.ps.range.length;
    this.logFirst = job.config.mode === 'async' || job.config.clipNorm !== undefined;
    this.charged = this.ps.version;
    // The coordinator's own pulls (evaluation, the end) and status requests are served at once: they are outside the steps the simulation times.
    this.ps.attach(toCoordinator);
  }

  /** Serves the connection of the worker on node `worker` (the shard's end of it). */
  serve(connection: Connection, worker: Node): void {
    const local = inProcess(worker, this.node);
    const side = new ShardSide(connection, this, local);
    const c = this.world.calibration;
    connection.on('message', (msg) => {
      const bytes = tensorBytes(msg);
      const fold = msg.type === 'push' || msg.type === 'pushRun' ? (c.foldMsPerMFloat * this.sliceFloats) / 1e6 : 0;
      this.node.process.run(receiveCost(this.world, bytes, local) + fold, () => {
        this.ps.handle(side, msg);
        receiveHelpers(this.world, this.node, bytes, local);
      });
    });
  }

  /** Runs `write` once the shard's process has encoded `msg` (`local`: without the transport); resolves as the real write does. */
  afterEncoding(msg: Outgoing, write: () => Promise<boolean>, local: boolean): Promise<boolean> {
    this.chargeUpdate();
    return new Promise((resolve) => this.node.process.run(sendCost(this.world, tensorBytes(msg), local), () => void write().then(resolve), true));
  }

  /** Queues the cost of an update the real shard has made since the last one charged (and of its log append, when that comes first). */
  private chargeUpdate(): void {
    if (this.ps.version <= this.charged) return;
    this.charged = this.ps.version;
    const c = this.world.calibration;
    const log = this.logFirst ? (c.updateLogMsPerMFloat ?? 0) : 0;
    this.node.process.run(((c.applyMsPerMFloat + log) * this.sliceFloats) / 1e6, () => undefined, true);
  }

  private applied(applied: Parameters<NonNullable<ConstructorParameters<typeof ParameterServer>[0]['onApplied']>>[0]): void {
    const c = this.world.calibration;
    // An update nothing was sent after (no pull was held for it) is charged here.
    this.chargeUpdate();
    if (!this.logFirst) this.node.process.run(((c.updateLogMsPerMFloat ?? 0) * this.sliceFloats) / 1e6, () => undefined, true);
    const report = { type: 'stepApplied', ...applied } as const;
    // Queued now, so the encoding lands right after the log append, as the real code sends it.
    void encodeAndCarry(this.world, this.node, this.world.coordinator, 0, true).then(() =>
      this.world.coordinator.process.run(this.world.calibration.coordinatorMsPerMessage, () => void this.toCoordinator.send(report)),
    );
  }
}
