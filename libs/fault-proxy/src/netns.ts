import { execFileSync, spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { FaultProxyError } from './errors.js';

/** Why partitions cannot be made here, or undefined when they can. */
export function netnsUnsupported(): string | undefined {
  if (process.platform !== 'linux') return `network namespaces need Linux (this is ${process.platform})`;
  if (process.getuid?.() !== 0) return 'network namespaces need root (ip netns add); run as root or skip the partition tests';
  try {
    execFileSync('ip', ['-V'], { stdio: 'ignore' });
  } catch {
    return "the 'ip' command (iproute2) is missing; install iproute2";
  }
  return undefined;
}

/** Why `redirect()` cannot work here (no nft), or undefined when it can. */
export function natUnsupported(): string | undefined {
  try {
    execFileSync('nft', ['--version'], { stdio: 'ignore' });
    return undefined;
  } catch {
    return "the 'nft' command (nftables) is missing; install nftables";
  }
}

export interface Netns {
  /** The namespace, for `ip netns exec NAME …`. */
  readonly name: string;
  /** The veth end left in this machine's root namespace, and its address (…/30). */
  readonly hostInterface: string;
  readonly hostAddress: string;
  /** The address of the veth end inside the namespace. */
  readonly nsAddress: string;
  /** Starts `command` inside the namespace (`ip netns exec`, which execs it: the pid is the command's). */
  spawn(command: string, args: readonly string[], options?: SpawnOptions): ChildProcess;
  /** Cuts the link (host end down): packets either way are lost, TCP connections stall, none closes. */
  cut(): void;
  /** Brings the link back up; stalled TCP connections resume by retransmission. */
  restore(): void;
  /**
   * Inside the namespace, sends TCP connections for `from` to `to` instead (nftables DNAT in the
   * namespace's output hook): a process in the namespace reaches a proxy while believing it talks
   * to the server. Only this namespace's traffic is touched.
   */
  redirect(from: { host: string; port: number }, to: { host: string; port: number }): void;
  /** Deletes the namespace and the veth pair; safe to call twice. */
  destroy(): void;
}

const live = new Set<Netns>();
let hooked = false;
let counter = 0;

function run(args: readonly string[], what: string): string {
  try {
    return execFileSync(args[0], args.slice(1), { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (error) {
    const stderr = String((error as { stderr?: unknown }).stderr ?? '').trim();
    throw new FaultProxyError('E_NETNS', `${what} failed: \`${args.join(' ')}\` said "${stderr}"`, { cause: error });
  }
}

/**
 * The /30 blocks of 10.213.0.0/16 are the pool: block b holds 10.213.(b >> 6).((b & 63) << 2) + 1
 * (host end) and + 2 (namespace end). The first block tried follows the pid, so concurrent test
 * processes start apart; blocks holding an address already on this machine are skipped.
 */
function freeBlock(): { host: string; ns: string } {
  const used = run(['ip', '-4', '-o', 'addr', 'show'], 'listing addresses');
  for (let i = 0; i < 16_384; i++) {
    const b = (process.pid * 17 + counter * 7 + i) % 16_384;
    const third = b >> 6;
    const fourth = (b & 63) << 2;
    const host = `10.213.${third}.${fourth + 1}`;
    const ns = `10.213.${third}.${fourth + 2}`;
    if (!used.includes(` ${host}/`) && !used.includes(` ${ns}/`)) return { host, ns };
  }
  throw new FaultProxyError('E_NETNS', 'every /30 of 10.213.0.0/16 is in use; delete leftover namespaces (ip netns list) and their veth pairs');
}

/**
 * Creates a network namespace joined to this machine's root namespace by a veth pair with a
 * private /30 (10.213.x.y, used only by these pairs): the namespace side gets .2, the host side .1,
 * and the namespace routes everything through the host side. A process started with `spawn`
 * reaches servers listening on `hostAddress` (or 0.0.0.0); `cut()` and `restore()` make a
 * partition that looks real to TCP. Everything is deleted by `destroy()`, and at process exit for
 * namespaces not yet destroyed.
 *
 * @throws FaultProxyError E_NETNS when not root, `ip` is missing, or a command fails (its stderr quoted)
 */
export function createNetns(): Netns {
  const reason = netnsUnsupported();
  if (reason) throw new FaultProxyError('E_NETNS', reason);
  counter++;
  const tag = `${process.pid % 100_000}x${counter}`;
  const name = `dpf-${tag}`;
  const hostInterface = `dpfh${tag}`.slice(0, 15);
  const nsInterface = `dpfn${tag}`.slice(0, 15);
  const { host: hostAddress, ns: nsAddress } = freeBlock();
  let destroyed = false;
  const netns: Netns = {
    name,
    hostInterface,
    hostAddress,
    nsAddress,
    spawn: (command, args, options = {}) => spawn('ip', ['netns', 'exec', name, command, ...args], options),
    cut: () => void run(['ip', 'link', 'set', hostInterface, 'down'], `cutting ${name}`),
    restore: () => void run(['ip', 'link', 'set', hostInterface, 'up'], `restoring ${name}`),
    redirect(from, to) {
      const nat = natUnsupported();
      if (nat) throw new FaultProxyError('E_NETNS', nat);
      const exec = ['ip', 'netns', 'exec', name, 'nft'];
      run([...exec, 'add', 'table', 'ip', 'dpf'], 'adding the nat table');
      run([...exec, 'add', 'chain', 'ip', 'dpf', 'out', '{ type nat hook output priority -100; }'], 'adding the nat chain');
      run(
        [...exec, 'add', 'rule', 'ip', 'dpf', 'out', 'ip', 'daddr', from.host, 'tcp', 'dport', String(from.port), 'dnat', 'to', `${to.host}:${to.port}`],
        `redirecting ${from.host}:${from.port}`,
      );
    },
    destroy() {
      if (destroyed) return;
      destroyed = true;
      live.delete(netns);
      // Deleting one end of a veth pair deletes both; the namespace may already be gone.
      for (const args of [
        ['ip', 'link', 'del', hostInterface],
        ['ip', 'netns', 'del', name],
      ]) {
        try {
          execFileSync(args[0], args.slice(1), { stdio: 'ignore' });
        } catch {
          // already gone
        }
      }
    },
  };
  live.add(netns);
  if (!hooked) {
    hooked = true;
    process.once('exit', () => {
      for (const n of [...live]) n.destroy();
    });
  }
  try {
    run(['ip', 'netns', 'add', name], `creating namespace ${name}`);
    run(['ip', 'link', 'add', hostInterface, 'type', 'veth', 'peer', 'name', nsInterface], 'creating the veth pair');
    run(['ip', 'link', 'set', nsInterface, 'netns', name], 'moving the veth end into the namespace');
    run(['ip', 'addr', 'add', `${hostAddress}/30`, 'dev', hostInterface], 'addressing the host end');
    run(['ip', 'link', 'set', hostInterface, 'up'], 'bringing the host end up');
    const inNs = ['ip', 'netns', 'exec', name];
    run([...inNs, 'ip', 'addr', 'add', `${nsAddress}/30`, 'dev', nsInterface], 'addressing the namespace end');
    run([...inNs, 'ip', 'link', 'set', nsInterface, 'up'], 'bringing the namespace end up');
    run([...inNs, 'ip', 'link', 'set', 'lo', 'up'], 'bringing the namespace loopback up');
    run([...inNs, 'ip', 'route', 'add', 'default', 'via', hostAddress], 'routing the namespace through the host end');
  } catch (error) {
    netns.destroy();
    throw error;
  }
  return netns;
}
