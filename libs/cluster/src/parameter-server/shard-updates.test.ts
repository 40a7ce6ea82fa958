import { noSpans, silentLogger, type Spans } from '@dptrain/log';
import { describe, expect, it } from 'vitest';
import { tinyJob } from '../testing.js';
import type { ShardDurability } from './shard-durability.js';
import { ShardState } from './shard-state.js';
import { ShardUpdates } from './shard-updates.js';
import { UpdatePhase } from './update-phases.js';
import type { WalRecord } from './write-ahead-log.js';

const P = 26; // MLP 3-4-2 on one shard

/** Real state, fake neighbours: what each phase did, in order, is in `events`. */
function rig(overrides: Record<string, unknown> = {}, options: { failAppend?: boolean; traced?: boolean } = {}) {
  const events: string[] = [];
  const spans: Spans = {
    begin: (name, args) => {
      events.push(`begin ${name} ${args?.version}`);
      return (end) => void events.push(`end ${name}${end?.pulls === undefined ? '' : ` pulls=${end.pulls}`}`);
    },
    instant: () => undefined,
  };
  const job = tinyJob(overrides);
  const async = job.config.mode === 'async';
  const state = new ShardState({ job, shard: 0, updatesPerStep: async ? 4 : 1, keepsPrevious: !async, log: silentLogger });
  const replies: (() => void)[] = [];
  const updates = new ShardUpdates(state, {
    shard: 0,
    log: silentLogger,
    spans: options.traced ? spans : noSpans,
    serve: () => {
      events.push('served');
      return [new Promise<boolean>((resolve) => replies.push(() => resolve(true)))];
    },
    refuse: (step) => void events.push(`refused ${step}`),
    onApplied: (report) => void events.push(`reported ${report.version}`),
    onFatal: (error) => void events.push(`fatal: ${error.message}`),
  });
  const append = (record: WalRecord): void => {
    if (options.failAppend) throw new Error('disk full');
    events.push(`logged ${record.version}`);
  };
  updates.durability = { append, due: () => false } as unknown as ShardDurability;
  return { events, state, updates, writeReplies: () => replies.splice(0).forEach((write) => write()) };
}

const record = (version: number, value = 0.25, extra: Partial<WalRecord> = {}): WalRecord => ({
  version,
  step: version,
  microBatchIds: [0, 1, 2, 3],
  losses: [0, 0, 0, 0],
  grad: new Float32Array(P).fill(value),
  ...extra,
});

describe('ShardUpdates', () => {
  it('sync: serves the update first, then logs and reports it once its replies are written', async () => {
    const { events, state, updates, writeReplies } = rig();
    updates.serveStep(record(0));
    expect(state.version).toBe(1);
    expect(events).toEqual(['served']);
    writeReplies();
    await expect.poll(() => events).toEqual(['served', 'logged 0', 'reported 1']);
  });

  it('sync: the update span ends before the update is served; the reply span when its replies are written', async () => {
    const { events, updates, writeReplies } = rig({}, { traced: true });
    updates.serveStep(record(0));
    expect(events).toEqual(['begin update 0', 'end update', 'begin reply 0', 'served']);
    writeReplies();
    await expect.poll(() => events).toEqual(['begin update 0', 'end update', 'begin reply 0', 'served', 'end reply pulls=1', 'logged 0', 'reported 1']);
  });

  it('sync: settle() logs and reports the served update at once, and only once', async () => {
    const { events, updates, writeReplies } = rig();
    updates.serveStep(record(0));
    updates.settle();
    expect(events).toEqual(['served', 'logged 0', 'reported 1']);
    writeReplies();
    updates.settle();
    await new Promise((resolve) => setImmediate(resolve));
    expect(events).toEqual(['served', 'logged 0', 'reported 1']);
  });

  it('sync with clipping: logs before the update changes the gradient, then serves and reports', () => {
    const { events, updates } = rig({ clipNorm: 0.5 });
    updates.serveStep(record(0));
    expect(events).toEqual(['logged 0', 'served', 'reported 1']);
  });

  it('refuses an update whose gradient is not finite: nothing is logged, made or served', () => {
    const { events, state, updates } = rig();
    const before = state.params.slice();
    updates.serveStep(record(0, Number.POSITIVE_INFINITY));
    expect(events).toEqual(['refused 0']);
    expect(state.version).toBe(0);
    expect(state.params).toEqual(before);
  });

  it('a failed log append of a served update is fatal and never reported', () => {
    const { events, updates } = rig({}, { failAppend: true });
    updates.serveStep(record(0));
    updates.settle();
    expect(events).toEqual([
      'served',
      expect.stringMatching(/^fatal: shard 0: the write-ahead log append of version 0 failed after the update was served \(Error: disk full\)/),
    ]);
  });

  it('async: logs before making the update; the policy reports it; a pair applied again is skipped', () => {
    const { events, state, updates } = rig({ mode: 'async', staleness: 2 });
    const one = { microBatchIds: [1], losses: [0], pushedVersion: 0 };
    const update = updates.applyNow(record(0, 0.25, one));
    expect(update.phase).toBe(UpdatePhase.Applied);
    expect(events).toEqual(['logged 0']);
    updates.report(update);
    expect(events).toEqual(['logged 0', 'reported 1']);
    expect(updates.applyNow(record(1, 0.25, { ...one, step: 0 })).phase).toBe(UpdatePhase.Skipped);
    expect(state.doubleApplied).toBe(1);
    expect(state.stalenessHistogram).toEqual([1]);
    expect(events).toEqual(['logged 0', 'reported 1']);
  });

  it('replays a logged update to the bits of the live one, without logging, serving or reporting it', () => {
    const live = rig();
    live.updates.serveStep(record(0));
    live.updates.settle();
    const restored = rig();
    restored.updates.replay(record(0));
    expect(restored.events).toEqual([]);
    expect(restored.state.version).toBe(1);
    expect(Buffer.from(restored.state.params.buffer).equals(Buffer.from(live.state.params.buffer))).toBe(true);
    expect(restored.state.recentApplied()).toEqual(live.state.recentApplied());
  });
});
