import { costOf, type Calibration, type SchedulerCost } from './calibration.js';
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
  /** What stayed in a process instead of crossing the network (a co-located worker and its own shard's thread). */
  readonly inProcess: Traffic;
}

/**
 * How the shards are placed, as `dptrain local` places them. `separate`: each shard a process of
 * its own (`dptrain ps`); `colocated`: worker k also serves shard k, from a thread of its process
 * (`dptrain worker --shard k`, `dptrain local --colocate`), so psShards = workers.
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
  /**
   * The core each process is pinned to, by name (`coordinator`, `ps-s`, `worker-k`), as
   * `dptrain local --pin-cpus` pins them (pinnedCores); a process not named runs on any core.
   */
  readonly pinned?: ReadonlyMap<string, number>;
}

/**
 * A thread of `node`'s process with a queue of its own (a co-located worker's shard thread): it
 * shares the node's host, so their cores (its core, when the process is pinned), and its network
 * attachment.
 */
export function threadOf(node: Node, name: string): Node {
  return { process: new Process(name, node.process.host, node.process.core), endpoint: node.endpoint };
}

/**
 * Whether a frame from `from` to `to` stays in one process: a co-located worker and its own
 * shard's thread (the only nodes that share a network attachment) pass frames over a MessagePort,
 * with the codec but no socket and no network.
 */
export function inProcess(from: Node, to: Node): boolean {
  return from.endpoint === to.endpoint;
}

/** Creates nodes according to a placement. */
export function nodeFactory(queue: EventQueue, placement: Placement, scheduler?: SchedulerCost): (name: string) => Node {
  const host = () => new Host(queue, placement.cores, placement.background ?? 0, scheduler?.sliceMs);
  const shared = placement.kind === 'shared' ? host() : undefined;
  return (name) => ({
    process: new Process(name, shared ?? host(), placement.pinned?.get(name)),
    endpoint: new Endpoint(name),
  });
}

/**
 * Carries a frame with `tensorBytes` of tensors over the network, or within a process across the
 * port (after its calibrated hand-over latency; at once with an older calibration); resolves at arrival.
 */
export function carry(world: World, from: Node, to: Node, tensorBytes: number): Promise<void> {
  if (inProcess(from, to)) {
    world.inProcess.frames++;
    world.inProcess.bytes += tensorBytes + FRAME_OVERHEAD_BYTES;
    const latencyMs = world.calibration.port?.latencyMs ?? 0;
    return latencyMs > 0 ? new Promise((resolve) => world.queue.after(latencyMs, resolve)) : Promise.resolve();
  }
  return world.network.transfer(from.endpoint, to.endpoint, tensorBytes + FRAME_OVERHEAD_BYTES);
}

/** The channel's own CPU per side of a frame: the port's within a process (`local`; none with an older calibration), else the transport's. */
function channelCost(world: World, tensorBytes: number, local: boolean): number {
  const channel = local ? world.calibration.port : world.calibration.transport;
  return channel ? costOf(channel, tensorBytes) : 0;
}

/** CPU milliseconds a sender spends on a frame: encoding and its side of the transport, or of the port when it stays in the process (`local`). */
export function sendCost(world: World, tensorBytes: number, local = false): number {
  return costOf(world.calibration.encode, tensorBytes) + channelCost(world, tensorBytes, local);
}

/** CPU milliseconds a receiver spends on a frame: decoding and validation and its side of the transport, or of the port when it came from within the process (`local`). */
export function receiveCost(world: World, tensorBytes: number, local = false): number {
  return costOf(world.calibration.decode, tensorBytes) + channelCost(world, tensorBytes, local);
}

/** The sender encodes a frame (`urgent`: ahead of its queued requests, as a reply), then the network carries it. */
export async function encodeAndCarry(world: World, from: Node, to: Node, tensorBytes: number, urgent = false): Promise<void> {
  await from.process.work(sendCost(world, tensorBytes, inProcess(from, to)), urgent);
  await carry(world, from, to, tensorBytes);
}

/**
 * Helper-thread work a process's finished work leaves behind (the collector freeing its garbage):
 * it starts after the work the process queues in the same moment, beside it, not in its way.
 */
export function helpersAfter(world: World, at: Node, workMs: number): void {
  if (workMs > 0) world.queue.after(0, () => at.process.helpers(workMs));
}

/**
 * What the receiver's helper threads spend on a frame's buffers (`local`: from across the port),
 * called once the frame has been taken in: its buffers are garbage only then.
 */
export function receiveHelpers(world: World, at: Node, tensorBytes: number, local = false): void {
  const c = world.calibration;
  const msPerMB = (local ? c.port?.receiveHelperMsPerMB : undefined) ?? c.receiveHelperMsPerMB ?? 0;
  helpersAfter(world, at, (msPerMB * tensorBytes) / 1e6);
}

/** The receiver takes in and decodes a frame `from` sent it (`extraMs` of handling on top). */
export function decodeAt(world: World, from: Node, at: Node, tensorBytes: number, extraMs = 0, urgent = false): Promise<void> {
  const local = inProcess(from, at);
  return at.process.work(receiveCost(world, tensorBytes, local) + extraMs, urgent).then(() => receiveHelpers(world, at, tensorBytes, local));
}
