import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { runCli } from '../cli/run-cli.js';
import { smallJob } from '../small-job.js';

// 40 steps of an MLP 784-32-10 on generated data; batches of 32 in micro-batches of 8 (M = 4).
const SMALL = smallJob(['--steps', '40', '--optimizer', 'adam']);

interface ShardStatus {
  mode: string;
  accepted: number;
  stale: number;
  duplicate: number;
  stalenessHistogram: number[];
}

describe('dptrain local --mode async', () => {
  it('applies each micro-batch once within the staleness bound, re-leases stale ones, and reports it in /status and summary.json', async () => {
    const out = mkdtempSync(join(tmpdir(), 'async-'));
    const token = 'async-test-token-0001';
    const running = runCli(['local', ...SMALL, '--mode', 'async', '--staleness', '1', '--workers', '2', '--out', out], { DPTRAIN_TOKEN: token });
    // The outside view while it runs: the coordinator's /status carries the shard's counters.
    let live: { mode?: string; staleness?: number; shards?: (ShardStatus | null)[] } | undefined;
    let finished = false;
    void running.then(() => (finished = true));
    while (!finished && live?.shards?.[0]?.mode !== 'async') {
      await delay(50);
      if (!existsSync(join(out, 'cluster.json'))) continue;
      const { coordinator } = JSON.parse(readFileSync(join(out, 'cluster.json'), 'utf8')) as { coordinator: string };
      live = await fetch(`${coordinator.replace('ws://', 'http://')}status`, { headers: { authorization: `Bearer ${token}` } }).then(
        (r) => r.json() as Promise<typeof live>,
        () => live,
      );
    }
    const result = await running;
    expect(result.code).toBe(0);
    expect(live).toMatchObject({ mode: 'async', staleness: 1, shards: [{ mode: 'async' }] });

    const summary = JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8'));
    const shard = summary.shards[0] as ShardStatus;
    // 40 steps × M = 4 micro-batches, each applied exactly once.
    expect(shard.accepted).toBe(160);
    // Nothing staler than --staleness 1 was applied: the histogram has entries for lag 0 and 1 only.
    expect(shard.stalenessHistogram.length).toBeLessThanOrEqual(2);
    expect(shard.stalenessHistogram.reduce((a, b) => a + b, 0)).toBe(160);
    // Every `stale` answer came back to the coordinator, which leased that micro-batch again.
    expect(summary.staleReleased).toBe(shard.stale);
    expect(summary).toMatchObject({ mode: 'async', staleness: 1, steps: 40, faults: [] });
    expect(Object.keys(summary.timingPerStepMs)).toEqual(['computeMs', 'pullMs', 'pushMs', 'waitMs']);

    const steps = readFileSync(join(out, 'metrics.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l))
      .filter((l) => l.kind === 'step');
    expect(steps.map((l) => l.step)).toEqual(Array.from({ length: 40 }, (_, i) => i + 1));
    expect(steps.every((l) => Number.isFinite(l.lr) && l.lr > 0 && Number.isFinite(l.gradNorm) && l.gradNorm > 0)).toBe(true);
  });

  it('is refused with its reason when the parameters are split over several shards', async () => {
    const result = await runCli(['local', ...SMALL, '--mode', 'async', '--ps-shards', '2', '--out', mkdtempSync(join(tmpdir(), 'async-refused-'))]);
    expect(result.code).not.toBe(0);
    expect(result.stderr).toContain('mode async needs one parameter-server shard, but psShards is 2');
    expect(result.stderr).toContain('help: use --ps-shards 1 with --mode async, or --mode sync');
  }, 30_000);
});
