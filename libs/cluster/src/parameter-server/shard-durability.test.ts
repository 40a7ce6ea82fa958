import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createMemoryPair } from '@dptrain/protocol';
import { type LogRecord } from '@dptrain/log';
import { afterEach, describe, expect, it } from 'vitest';
import { tinyJob } from '../testing.js';
import { checkpointName } from './checkpoint-file.js';
import { ParameterServer } from './parameter-server.js';
import { walName } from './write-ahead-log.js';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'ps-dir-'));
  dirs.push(dir);
  return dir;
}

const job = tinyJob({ epochs: 2 });

async function drive(ps: ParameterServer, steps: number): Promise<void> {
  const pair = createMemoryPair({
    a: { role: 'worker', validateOptions: { paramCount: ps.paramCount } },
    b: { role: 'ps', validateOptions: ps.validateOptions(ps.paramCount) },
  });
  ps.attach(pair.b);
  for (let t = ps.version; t < steps; t++) {
    for (const id of [0, 1, 2, 3]) {
      const grads = Float32Array.from({ length: ps.range.length }, (_, i) => Math.cos(t * 0.7 + id + i));
      await pair.a.request({ type: 'push', step: t, microBatchId: id, version: t, generation: 0, offset: 0, grads, loss: 1, samples: 2 });
    }
    // One checkpoint at a time on disk, so which ones exist does not depend on the disk's speed.
    await ps.checkpointsSettled();
  }
}

describe('shard durability directory', () => {
  it('keeps N checkpoints and the logs from the oldest kept one, so a corrupt newest checkpoint costs no step', async () => {
    const dir = tempDir();
    const ps = await ParameterServer.open({ job, shard: 0, durability: { dir, every: 2, keep: 2, resume: false } });
    await drive(ps, 7);
    await ps.checkpointsSettled();
    await ps.close();
    // Checkpoints at steps 2, 4, 6: the newest two stay, and the logs that start at them.
    expect(readdirSync(dir).sort()).toEqual([checkpointName(4), checkpointName(6), 'job.json', walName(4), walName(6)]);

    const six = join(dir, checkpointName(6));
    const bytes = readFileSync(six);
    bytes[bytes.length - 1] ^= 0x80;
    writeFileSync(six, bytes);
    const events: LogRecord[] = [];
    const resumed = await ParameterServer.open({ job, shard: 0, log: (r) => events.push(r), durability: { dir, every: 2, keep: 2, resume: true } });
    await resumed.close();
    expect(events.map((e) => e.event)).toEqual(['checkpoint-skipped', 'checkpoint-loaded', 'shard-restored']);
    expect(events[2]).toMatchObject({ version: 7, checkpointStep: 4, replayed: 3 });
    expect([...resumed.params]).toEqual([...ps.params]);
  });

  it('a fresh start removes what an earlier run left, so a later resume never mixes the two', async () => {
    const dir = tempDir();
    const earlier = await ParameterServer.open({ job, shard: 0, durability: { dir, every: 2, keep: 2, resume: false } });
    await drive(earlier, 5);
    await earlier.checkpointsSettled();
    await earlier.close();
    const events: LogRecord[] = [];
    const fresh = await ParameterServer.open({ job, shard: 0, log: (r) => events.push(r), durability: { dir, every: 2, keep: 2, resume: false } });
    await fresh.close();
    expect(fresh.version).toBe(0);
    expect(events).toEqual([expect.objectContaining({ event: 'checkpoint-dir-cleared', removed: 4 })]);
    expect(readdirSync(dir).sort()).toEqual(['job.json', walName(0)]);
  });

  it('saves the job beside the checkpoints, so a restarted shard can restore before it registers', async () => {
    const dir = tempDir();
    await expect(ParameterServer.savedJob(dir)).rejects.toThrow(/job.json is missing .* give --checkpoint-dir/);
    const ps = await ParameterServer.open({ job, shard: 0, durability: { dir, every: 2, keep: 2, resume: false } });
    await ps.close();
    const saved = await ParameterServer.savedJob(dir);
    expect(saved).toEqual(JSON.parse(JSON.stringify(job)));
    expect(ps.runs(saved)).toBe(true);
    expect(ps.runs(tinyJob({ epochs: 3 }))).toBe(false);
    expect(ParameterServer.checkpointDirOf(job, 1)).toBe(join(job.config.out, 'checkpoints', 'shard-1'));
    expect(ParameterServer.checkpointDirOf(job, 0, '/data/ckpt')).toBe('/data/ckpt/shard-0');
  });

  it('at the end of the job, a checkpoint of the final state replaces the logs', async () => {
    const dir = tempDir();
    const ps = await ParameterServer.open({ job, shard: 0, durability: { dir, every: 2, keep: 2, resume: false } });
    await drive(ps, 7);
    await ps.finish();
    await ps.close();
    expect(readdirSync(dir).sort()).toEqual([checkpointName(6), checkpointName(7), 'job.json']);
    const events: LogRecord[] = [];
    const resumed = await ParameterServer.open({ job, shard: 0, log: (r) => events.push(r), durability: { dir, every: 2, keep: 2, resume: true } });
    await resumed.close();
    expect(events.find((e) => e.event === 'shard-restored')).toMatchObject({ version: 7, checkpointStep: 7, replayed: 0 });
    expect([...resumed.params]).toEqual([...ps.params]);
  });
});
