import { costOf, type Calibration } from './calibration.js';
import { Host, Process } from './cpu.js';
import type { EventQueue } from './event-queue.js';
import { Endpoint, type Network, type Traffic } from './network.js';

/** Header bytes of a frame besides its tensors (msgpack header, tensor table), rounded up. */
export const FRAME_OVERHEAD_BYTES = 256;

/** A simulated process: its CPU and its network attachment. */
export interface Node {
  readonly process: Process;
  readonly endpoint: Endpoint;
}

/** What every model in one simulation shares. */
export interface World {
  readonly queue: EventQueue;
  readonly network: Network;
  readonly calibration: Calibration;
  readonly coordinator: Node;
  /** What went through in-memory connections (a co-located worker and its own shard), never on the network. */
  readonly inMemory: Traffic;
}

/**
 * How the shards are placed, as `dptrain local` places them. `separate`: each shard a process of
 * its own (`dptrain ps`); `colocated`: worker k also serves shard k in its process (`dptrain
 * worker --shard k`, `dptrain local --colocate`), so psShards = workers.
 */
export type Layout = 'separate' | 'colocated';

/**
 * Where the processes run. `shared`: every process on one host of `cores` cores (the machine the
 * calibration ran on, as `dptrain local` runs); `dedicated`: each process on a host of its own.
 */
export interface Placement {
  readonly kind: 'shared' | 'dedicated';
  readonly cores: number;
  /** Other load on each host, in busy processes. @default 0 */
  readonly background?: number;
}

/** Creates nodes according to a placement. */
export function nodeFactory(queue: EventQueue, placement: Placement): (name: string) => Node {
  const shared = placement.kind === 'shared' ? new Host(queue, placement.cores, placement.background ?? 0) : undefined;
  return (name) => ({
    process: new Process(name, shared ?? new Host(queue, placement.cores, placement.background ?? 0)),
    endpoint: new Endpoint(name),
  });
}

/**
 * Whether a frame from `from` to `to` stays inside one process: a co-located worker reaching its
 * own shard (the two share one node) does so through an in-memory connection, which runs the codec
 * but has no socket and no network.
 */
export function inProcess(from: Node, to: Node): boolean {
  return from === to;
}

/** Carries a frame with `tensorBytes` of tensors over the network (at once within a process); resolves at arrival. */
export function carry(world: World, from: Node, to: Node, tensorBytes: number): Promise<void> {
  if (inProcess(from, to)) {
    world.inMemory.frames++;
    world.inMemory.bytes += tensorBytes + FRAME_OVERHEAD_BYTES;
    return Promise.resolve();
  }
  return world.network.transfer(from.endpoint, to.endpoint, tensorBytes + FRAME_OVERHEAD_BYTES);
}

/** CPU milliseconds a sender spends on a frame: encoding and, unless it stays `inMemory`, its side of the transport. */
export function sendCost(world: World, tensorBytes: number, inMemory = false): number {
  const encode = costOf(world.calibration.encode, tensorBytes);
  return inMemory ? encode : encode + costOf(world.calibration.transport, tensorBytes);
}

/** CPU milliseconds a receiver spends on a frame: decoding and validation and, unless it came `inMemory`, its side of the transport. */
export function receiveCost(world: World, tensorBytes: number, inMemory = false): number {
  const decode = costOf(world.calibration.decode, tensorBytes);
  return inMemory ? decode : decode + costOf(world.calibration.transport, tensorBytes);
}

/** The sender encodes a frame (`urgent`: ahead of its queued requests, as a reply), then the network carries it. */
export async function encodeAndCarry(world: World, from: Node, to: Node, tensorBytes: number, urgent = false): Promise<void> {
  await from.process.work(sendCost(world, tensorBytes, inProcess(from, to)), urgent);
  await carry(world, from, to, tensorBytes);
}

/** The receiver takes in and decodes a frame `from` sent it (`extraMs` of handling on top). */
export function decodeAt(world: World, from: Node, at: Node, tensorBytes: number, extraMs = 0, urgent = false): Promise<void> {
  return at.process.work(receiveCost(world, tensorBytes, inProcess(from, at)) + extraMs, urgent);
}
