import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { LogRecord } from '@dptrain/log';
import { afterEach, describe, expect, it } from 'vitest';
import { checkpointName, encodeCheckpoint, loadNewestCheckpoint, pruneCheckpoints, writeCheckpoint, type ShardSnapshot } from './checkpoint-file.js';

const FINGERPRINT = 'f'.repeat(64);

/** A small snapshot whose every array depends on `step`, so two steps never share bytes. */
function snapshotOf(step: number): ShardSnapshot {
  const vector = (salt: number) => Float32Array.from({ length: 10 }, (_, i) => Math.sin(step * 13 + salt * 7 + i));
  const params = vector(1);
  return {
    step,
    version: step,
    params,
    optimizer: { format: 1, name: 'adam', size: 10, step, slots: { m: vector(2), v: vector(3) }, scalars: {} },
    bnState: vector(4),
    ledger: Uint8Array.of(step, 255, 0),
    previous: { version: step - 1, params: vector(5), point: vector(6), bnState: vector(7) },
    recentApplied: [{ step: step - 1, version: step, microBatchIds: [0, 1], lr: 0.001, gradNorm: 0.5 + step, losses: [0.25, 0.75] }],
    stalenessHistogram: [step, 1],
  };
}

function logs(): { log: (r: LogRecord) => void; events: LogRecord[] } {
  const events: LogRecord[] = [];
  return { log: (r) => events.push(r), events };
}

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'ckpt-'));
  dirs.push(dir);
  return dir;
}

describe('shard checkpoint files', () => {
  it('round-trips every part of the snapshot, bit for bit, with the sha256 verified', async () => {
    const dir = tempDir();
    const written = snapshotOf(4);
    await writeCheckpoint(dir, written, FINGERPRINT);
    const { log, events } = logs();
    const loaded = await loadNewestCheckpoint(dir, FINGERPRINT, log);
    expect(loaded).toMatchObject({ step: 4, version: 4, path: join(dir, checkpointName(4)), recentApplied: written.recentApplied, stalenessHistogram: [4, 1] });
    for (const key of ['params', 'bnState', 'ledger'] as const) expect(loaded![key]).toEqual(written[key]);
    expect(loaded!.optimizer).toEqual(written.optimizer);
    expect(loaded!.previous).toEqual(written.previous);
    expect(events).toEqual([expect.objectContaining({ event: 'checkpoint-loaded', step: 4, message: expect.stringContaining('sha256 verified') })]);
  });

  it('ignores (and removes) a temporary file left by a write that never finished', async () => {
    const dir = tempDir();
    await writeCheckpoint(dir, snapshotOf(3), FINGERPRINT);
    // What a process killed inside the write of step 6 leaves: half of the bytes, under the temporary name.
    const bytes = encodeCheckpoint(snapshotOf(6), FINGERPRINT);
    const temp = join(dir, `.${checkpointName(6)}.4242.1700000000000.tmp`);
    writeFileSync(temp, bytes.subarray(0, bytes.length >> 1));
    const { log, events } = logs();
    const loaded = await loadNewestCheckpoint(dir, FINGERPRINT, log);
    expect(loaded?.step).toBe(3);
    expect(events[0]).toMatchObject({ event: 'checkpoint-skipped', path: temp, reason: expect.stringContaining('never finished') });
    expect(readdirSync(dir)).toEqual([checkpointName(3)]);
  });

  it('skips a file with one flipped byte (sha256) and a truncated one, and loads the newest good one', async () => {
    const dir = tempDir();
    for (const step of [2, 4, 6]) await writeCheckpoint(dir, snapshotOf(step), FINGERPRINT);
    const six = join(dir, checkpointName(6));
    const damaged = readFileSync(six);
    damaged[damaged.length - 20] ^= 0x01; // inside the tensor bytes
    writeFileSync(six, damaged);
    const four = join(dir, checkpointName(4));
    writeFileSync(four, readFileSync(four).subarray(0, statSync(four).size - 100));
    const { log, events } = logs();
    const loaded = await loadNewestCheckpoint(dir, FINGERPRINT, log);
    expect(loaded?.step).toBe(2);
    expect(loaded!.params).toEqual(snapshotOf(2).params);
    expect(events.map((e) => [e.event, e.path, String(e.reason).split(':')[0]])).toEqual([
      ['checkpoint-skipped', six, 'sha256 mismatch'],
      ['checkpoint-skipped', four, 'malformed or truncated'],
      ['checkpoint-loaded', join(dir, checkpointName(2)), 'undefined'],
    ]);
  });

  it("skips another job's checkpoint by its fingerprint and finds nothing in an empty or missing directory", async () => {
    const dir = tempDir();
    await writeCheckpoint(dir, snapshotOf(5), 'a'.repeat(64));
    const { log, events } = logs();
    expect(await loadNewestCheckpoint(dir, FINGERPRINT, log)).toBeUndefined();
    expect(events[0]).toMatchObject({ event: 'checkpoint-skipped', reason: expect.stringContaining('job fingerprint aaaaaaaaaaaa') });
    expect(await loadNewestCheckpoint(join(dir, 'missing'), FINGERPRINT, log)).toBeUndefined();
  });

  it('keeps the newest N checkpoints when pruning', async () => {
    const dir = tempDir();
    for (const step of [10, 2, 30, 20]) await writeCheckpoint(dir, snapshotOf(step), FINGERPRINT);
    expect(await pruneCheckpoints(dir, 2)).toEqual([join(dir, checkpointName(10)), join(dir, checkpointName(2))]);
    expect(readdirSync(dir).sort()).toEqual([checkpointName(20), checkpointName(30)]);
  });
});
