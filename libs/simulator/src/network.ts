import type { EventQueue } from './event-queue.js';

/** What the network model needs to know about the wire. */
export interface WireModel {
  /** One-way latency of a message, milliseconds. */
  readonly latencyMs: number;
  /** Throughput of one endpoint's link, megabytes (10⁶ bytes) per second. */
  readonly bandwidthMBps: number;
}

/** Frames and their bytes (tensors and header) counted over a run. */
export interface Traffic {
  frames: number;
  bytes: number;
}

/**
 * One process's network attachment: its outgoing and incoming link each carry one message's
 * bytes at a time, so messages queue behind each other at a busy sender and at a busy receiver
 * (the parameter server's incoming link is where many workers' pushes meet).
 */
export class Endpoint {
  /** When the outgoing link finishes what it has already been given. */
  egressFree = 0;
  /** When the incoming link finishes what it has already been given. */
  ingressFree = 0;
  bytesOut = 0;
  bytesIn = 0;

  constructor(readonly name: string) {}
}

/**
 * Delivery times of messages between endpoints: a message of B bytes leaves its sender once the
 * sender's link is free and takes B/bandwidth to serialise; its last byte arrives `latency`
 * later, or when the receiver's link has also carried it (B/bandwidth after the receiver's link is
 * free), whichever is later.
 */
export class Network {
  /** Every frame the links carried. */
  readonly carried: Traffic = { frames: 0, bytes: 0 };

  constructor(
    private readonly queue: EventQueue,
    readonly wire: WireModel,
  ) {
    if (!(wire.latencyMs >= 0) || !Number.isFinite(wire.latencyMs)) throw new RangeError(`wire latency ${wire.latencyMs} ms must be a non-negative number`);
    if (!(wire.bandwidthMBps > 0) || !Number.isFinite(wire.bandwidthMBps))
      throw new RangeError(`wire bandwidth ${wire.bandwidthMBps} MB/s must be a positive number`);
  }

  /** Milliseconds the link is busy with `bytes`. */
  serialisationMs(bytes: number): number {
    return bytes / (this.wire.bandwidthMBps * 1000);
  }

  /** Reserves the links for a message sent now and returns its arrival time (virtual ms). */
  arrival(from: Endpoint, to: Endpoint, bytes: number): number {
    const s = this.serialisationMs(bytes);
    const sent = Math.max(this.queue.now, from.egressFree) + s;
    from.egressFree = sent;
    const arrived = Math.max(sent + this.wire.latencyMs, to.ingressFree + s);
    to.ingressFree = arrived;
    from.bytesOut += bytes;
    to.bytesIn += bytes;
    this.carried.frames++;
    this.carried.bytes += bytes;
    return arrived;
  }

  /** Sends `bytes` now; resolves at arrival. */
  transfer(from: Endpoint, to: Endpoint, bytes: number): Promise<void> {
    const at = this.arrival(from, to, bytes);
    return new Promise((resolve) => this.queue.at(at, resolve));
  }
}
