import { execFileSync } from 'node:child_process';
import { once } from 'node:events';
import { connect, createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { createNetns, natUnsupported, netnsUnsupported, type Netns } from './netns.js';

const unsupported = netnsUnsupported();
if (unsupported) console.log(`skipping network-namespace tests: ${unsupported}`);

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function listen(host: string, onSocket: (s: Socket) => void): Promise<{ server: Server; port: number }> {
  const server = createServer(onSocket);
  server.listen(0, host);
  await once(server, 'listening');
  cleanups.push(() => new Promise<void>((r) => server.close(() => r())));
  return { server, port: (server.address() as AddressInfo).port };
}

/**
 * Runs a one-shot TCP client inside the namespace: connects, sends 'ping', prints what comes back
 * or the error code; gives up after `timeoutMs` with TIMEOUT.
 */
function probe(ns: Netns, host: string, port: number, timeoutMs = 1500): Promise<string> {
  const script = `const s=require('net').connect(${port},'${host}');s.setTimeout(${timeoutMs},()=>{console.log('TIMEOUT');process.exit(0)});s.on('connect',()=>s.write('ping'));s.on('data',d=>{console.log(String(d));process.exit(0)});s.on('error',e=>{console.log(e.code);process.exit(0)})`;
  const child = ns.spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += String(d)));
  return new Promise((resolve) => child.on('exit', () => resolve(out.trim())));
}

describe.skipIf(unsupported !== undefined)('createNetns', () => {
  it('joins a namespace to the host by a /30 veth pair, cuts and restores the link, and deletes it all', async () => {
    const ns = createNetns();
    cleanups.push(() => ns.destroy());
    // Host end .1, namespace end .2 of one /30 block of 10.213.0.0/16.
    const [a, b] = [ns.hostAddress, ns.nsAddress].map((ip) => ip.split('.').map(Number));
    expect([a[0], a[1], b[3] - a[3], a[3] % 4]).toEqual([10, 213, 1, 1]);
    const { port } = await listen(ns.hostAddress, (s) => s.on('data', (d) => s.end(`pong:${d}`)));

    expect(await probe(ns, ns.hostAddress, port)).toBe('pong:ping');
    ns.cut();
    // The host end is down: SYNs from the namespace are lost, so the connect times out.
    expect(await probe(ns, ns.hostAddress, port, 400)).toBe('TIMEOUT');
    ns.restore();
    expect(await probe(ns, ns.hostAddress, port)).toBe('pong:ping');

    ns.destroy();
    expect(execFileSync('ip', ['netns', 'list'], { encoding: 'utf8' })).not.toContain(ns.name);
    expect(execFileSync('ip', ['-o', 'link', 'show'], { encoding: 'utf8' })).not.toContain(ns.hostInterface);
  });

  it('keeps an established connection through a cut: bytes sent meanwhile arrive after restore', async () => {
    const ns = createNetns();
    cleanups.push(() => ns.destroy());
    let serverSide: Socket | undefined;
    const { port } = await listen(ns.hostAddress, (s) => (serverSide = s));
    const script = `const s=require('net').connect(${port},'${ns.hostAddress}');s.on('connect',()=>console.log('up'));s.on('data',d=>{console.log(String(d));process.exit(0)});s.on('error',e=>{console.log(e.code);process.exit(0)})`;
    const child = ns.spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
    cleanups.push(() => child.kill('SIGKILL'));
    let out = '';
    child.stdout!.on('data', (d: Buffer) => (out += String(d)));
    for (let i = 0; i < 400 && !(out.includes('up') && serverSide); i++) await new Promise((r) => setTimeout(r, 5));
    ns.cut();
    serverSide!.write('during-cut');
    const exited = once(child, 'exit');
    ns.restore();
    await exited;
    expect(out.trim().split('\n')).toEqual(['up', 'during-cut']);
  });

  it.skipIf(natUnsupported() !== undefined)('redirects the namespace’s connections for one address:port to another', async () => {
    const ns = createNetns();
    cleanups.push(() => ns.destroy());
    const real = await listen(ns.hostAddress, (s) => s.on('data', () => s.end('real')));
    const proxy = await listen(ns.hostAddress, (s) => s.on('data', () => s.end('proxy')));
    ns.redirect({ host: ns.hostAddress, port: real.port }, { host: ns.hostAddress, port: proxy.port });
    expect(await probe(ns, ns.hostAddress, real.port)).toBe('proxy');
    // Outside the namespace nothing changed.
    const direct = await new Promise<string>((resolve) => {
      const s = connect(real.port, ns.hostAddress, () => s.write('x'));
      s.on('data', (d) => resolve(String(d)));
    });
    expect(direct).toBe('real');
  });
});
