import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createMemoryPair, type Connection, type Message } from '@dptrain/protocol';
import { afterEach, describe, expect, it } from 'vitest';
import type { JobDescription } from '@dptrain/job';
import { tinyJob } from '../testing.js';
import { ShardSession } from './shard-session.js';

const P = 26;
const dirs: string[] = [];

afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** A coordinator that answers each registration with `jobs[k]` (the last one from then on) and records what the shard sent. */
function coordinator(...jobs: (JobDescription | Record<string, unknown>)[]) {
  const received: Message[] = [];
  const connections: Connection[] = [];
  const connect = async (): Promise<Connection> => {
    const pair = createMemoryPair({ a: { role: 'ps', validateOptions: { paramCount: P } }, b: { role: 'coordinator', validateOptions: { paramCount: P } } });
    const job = jobs[Math.min(connections.length, jobs.length - 1)]!;
    pair.b.on('message', (msg) => {
      received.push(msg);
      if (msg.type === 'register') void pair.b.reply(msg, { type: 'registered', workerId: 0, generation: 0, config: job as never });
    });
    connections.push(pair.b);
    return pair.a;
  };
  return { connect, received, connections, sent: (type: string) => received.filter((m) => m.type === type) };
}

function session(connect: () => Promise<Connection>) {
  const root = mkdtempSync(join(tmpdir(), 'shard-session-'));
  dirs.push(root);
  const durable: string[] = [];
  const listened: number[] = [];
  const shard = new ShardSession({
    shard: 0,
    name: 'ps-0',
    coordinator: 'memory://coordinator',
    connectCoordinator: connect,
    listen: async () => {
      listened.push(listened.length);
      return { url: 'memory://ps-0', port: 0, close: async () => undefined };
    },
    resume: false,
    checkpointDir: root,
    onDurable: async (dir) => void durable.push(dir),
  });
  const status = shard.status();
  return { run: shard.run(), root, durable, listened, status: () => shard.status(), statusBefore: status };
}

describe('ShardSession', () => {
  it('registers, listens once, registers again after losing the coordinator, and stops on shutdown', async () => {
    const fake = coordinator(tinyJob());
    const { run, root, durable, listened, status, statusBefore } = session(fake.connect);
    await expect.poll(() => fake.sent('shardReady')).toHaveLength(1);
    expect(durable).toEqual([join(root, 'shard-0')]);
    // Its metrics read the status report: none before the shard exists, the shard's own after.
    expect(statusBefore).toBeUndefined();
    expect(status()).toMatchObject({ shard: 0, version: 0, accepted: 0, offset: 0, length: P });
    fake.connections[0]!.close(1001, 'coordinator restarted');
    await expect.poll(() => fake.sent('shardReady')).toHaveLength(2);
    expect(fake.sent('register').map((m) => m.type === 'register' && m.version)).toEqual([0, 0]);
    expect(listened).toEqual([0]);
    void fake.connections[1]!.send({ type: 'shutdown', reason: 'job done' });
    await expect(run).resolves.toMatchObject({ reason: 'job done', version: 0, counters: { accepted: 0 } });
  });

  it('refuses a restarted coordinator that runs another job', async () => {
    const fake = coordinator(tinyJob(), tinyJob({ seed: 7 }));
    const { run } = session(fake.connect);
    await expect.poll(() => fake.sent('shardReady')).toHaveLength(1);
    fake.connections[0]!.close(1001, 'coordinator restarted');
    await expect(run).rejects.toThrow("the coordinator at memory://coordinator runs another job than shard 0's checkpoints");
  });

  it('refuses a job from the coordinator that its schema refuses, naming the key, before it opens anything', async () => {
    const job = tinyJob();
    const fake = coordinator({ ...job, config: { ...job.config, psShards: 0 } });
    const { run, listened, durable } = session(fake.connect);
    await expect(run).rejects.toThrow(/the job the coordinator sent: psShards .*/);
    expect([listened, durable]).toEqual([[], []]);
  });
});
