import { costOf, type Calibration } from './calibration.js';
import { Host, Process } from './cpu.js';
import type { EventQueue } from './event-queue.js';
import { Endpoint, type Network } from './network.js';

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
}

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

/** Carries a frame with `tensorBytes` of tensors over the network; resolves at arrival. */
export function carry(world: World, from: Node, to: Node, tensorBytes: number): Promise<void> {
  return world.network.transfer(from.endpoint, to.endpoint, tensorBytes + FRAME_OVERHEAD_BYTES);
}

/** CPU milliseconds a sender spends on a frame: encoding and its side of the transport. */
export function sendCost(world: World, tensorBytes: number): number {
  return costOf(world.calibration.encode, tensorBytes) + costOf(world.calibration.transport, tensorBytes);
}

/** CPU milliseconds a receiver spends on a frame: its side of the transport, decoding and validation. */
export function receiveCost(world: World, tensorBytes: number): number {
  return costOf(world.calibration.decode, tensorBytes) + costOf(world.calibration.transport, tensorBytes);
}

/** The sender encodes a frame (`urgent`: ahead of its queued requests, as a reply), then the network carries it. */
export async function encodeAndCarry(world: World, from: Node, to: Node, tensorBytes: number, urgent = false): Promise<void> {
  await from.process.work(sendCost(world, tensorBytes), urgent);
  await carry(world, from, to, tensorBytes);
}

/** The receiver takes a frame in and decodes it (`extraMs` of handling on top). */
export function decodeAt(world: World, at: Node, tensorBytes: number, extraMs = 0, urgent = false): Promise<void> {
  return at.process.work(receiveCost(world, tensorBytes) + extraMs, urgent);
}
