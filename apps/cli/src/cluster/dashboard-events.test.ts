import type { FaultRecord } from '@dptrain/cluster';
import { parseConfig } from '@dptrain/config';
import { describe, expect, it } from 'vitest';
import { DashboardEvents, MAX_FAULTS, MAX_STEP_POINTS, type DashboardEvent, type StepPoint } from './dashboard-events.js';

const config = parseConfig({ batchSize: 32, microBatchSize: 8 });

function hub(clock: () => number = () => 0, totalSteps = 100_000): DashboardEvents {
  return new DashboardEvents({ config, totalSteps, stepsPerEpoch: 50, startedAt: 0 }, clock);
}

function step(n: number): { kind: 'step'; step: number; epoch: number; loss: number; lr: number; gradNorm: number } {
  return { kind: 'step', step: n, epoch: 1 + Math.floor((n - 1) / 50), loss: 1 / n, lr: 0.01, gradNorm: 2 };
}

function fault(n: number): FaultRecord {
  return { kind: 'worker-disconnected', workerId: 1, name: 'worker-1', step: n, microBatchIds: [n], action: 'leased again', atMs: n };
}

type EventData = { [K in DashboardEvent['event']]: Extract<DashboardEvent, { event: K }>['data'] };

/** The data of the last event of `events` named `name`. */
function last<E extends keyof EventData>(events: readonly DashboardEvent[], name: E): EventData[E] {
  const found = events.filter((e) => e.event === name).at(-1);
  if (!found) throw new Error(`no ${name} event among ${events.map((e) => e.event).join(', ')}`);
  return found.data as EventData[E];
}

describe('DashboardEvents', () => {
  it('gives a page that connects late the job, the curves and the faults so far, then the live events', () => {
    let now = 1_000;
    const events = hub(() => now);
    for (let n = 1; n <= 3; n++) {
      now += 100;
      events.step(step(n));
    }
    events.eval({ step: 3, epoch: 1, split: 'test', loss: 0.5, accuracy: 0.75 });
    events.fault(fault(2));
    const history = events.history();
    expect(history.map((e) => e.event)).toEqual(['job', 'steps', 'evals', 'faults']);
    expect(last(history, 'job').totalSteps).toBe(100_000);
    expect(last(history, 'steps').map((p) => [p.step, p.t])).toEqual([
      [1, 1_100],
      [2, 1_200],
      [3, 1_300],
    ]);
    expect(last(history, 'evals')).toEqual([{ step: 3, epoch: 1, split: 'test', loss: 0.5, accuracy: 0.75, t: 1_300 }]);
    expect(last(history, 'faults')).toEqual([fault(2)]);

    const live: DashboardEvent[] = [];
    const stop = events.subscribe((e) => live.push(e));
    events.step(step(4));
    events.fault(fault(4));
    stop();
    events.step(step(5));
    expect(live.map((e) => e.event)).toEqual(['step', 'fault']);
    // The page's copy of a point has what it draws, not the record's `kind`.
    expect(Object.keys(last(live, 'step')).sort()).toEqual(['epoch', 'gradNorm', 'loss', 'lr', 'step', 't']);
  });

  it('sends at most MAX_STEP_POINTS points of a long run, spread over all of it, and a thinned copy when it thins', () => {
    const events = hub();
    const live: DashboardEvent[] = [];
    events.subscribe((e) => live.push(e));
    const total = MAX_STEP_POINTS * 5;
    for (let n = 1; n <= total; n++) events.step(step(n));
    const points = last(events.history(), 'steps');
    expect(points.length).toBeLessThanOrEqual(MAX_STEP_POINTS);
    expect(points.length).toBeGreaterThan(MAX_STEP_POINTS / 2);
    expect(points[0]!.step).toBe(1);
    expect(total - points.at(-1)!.step).toBeLessThan(total / points.length);
    // What a connected page holds: the last thinned copy and the points sent after it, the same as a new page gets.
    const thinnedAt = live.map((e) => e.event).lastIndexOf('steps');
    const held = [...last(live, 'steps'), ...live.slice(thinnedAt + 1).map((e) => e.data as StepPoint)];
    expect(held).toEqual(points);
    expect(live.filter((e) => e.event === 'step').length).toBeLessThan(total / 2);
  });

  it('keeps the newest MAX_FAULTS faults', () => {
    const events = hub();
    for (let n = 1; n <= MAX_FAULTS + 10; n++) events.fault(fault(n));
    const faults = last(events.history(), 'faults');
    expect(faults.length).toBe(MAX_FAULTS);
    expect(faults[0]!.step).toBe(11);
  });

  it('adds the recent samples/s, the ETA and the last step to the status, and leaves out its faults', () => {
    let now = 0;
    const events = hub(() => now, 100);
    const before = events.statusEvent({ step: 0, faults: [] });
    expect(before.data).toMatchObject({ samplesPerSecond: null, etaSeconds: null, lastStep: null, faultCount: 0, at: 0 });
    for (let n = 1; n <= 10; n++) {
      now += 500;
      events.step(step(n));
    }
    const status = events.statusEvent({ step: 10, workers: [], faults: [{ kind: 'worker-disconnected' }] });
    expect(status.event).toBe('status');
    // 2 steps per second of 32 samples; 90 steps left.
    expect(status.data.samplesPerSecond).toBeCloseTo(64, 6);
    expect(status.data.etaSeconds).toBeCloseTo(45, 6);
    expect(status.data).toMatchObject({ step: 10, workers: [], faultCount: 1, at: 5_000, lastStep: { step: 10 } });
    expect('faults' in status.data).toBe(false);
  });

  it('continues the curves of a restarted coordinator from the run folder', () => {
    const events = hub();
    const at = (s: number): string => new Date(s * 1_000).toISOString();
    events.replay(
      [
        { ...step(1), time: at(1) },
        { kind: 'layers', step: 1, time: at(1) },
        { ...step(2), time: at(2) },
        { kind: 'eval', step: 2, epoch: 1, split: 'validation', loss: 0.7, accuracy: 0.6, time: at(3) },
        'a torn line',
      ],
      [fault(1)],
    );
    const history = events.history();
    expect(last(history, 'steps').map((p) => [p.step, p.t])).toEqual([
      [1, 1_000],
      [2, 2_000],
    ]);
    expect(last(history, 'evals')).toEqual([{ step: 2, epoch: 1, split: 'validation', loss: 0.7, accuracy: 0.6, t: 3_000 }]);
    expect(last(history, 'faults')).toEqual([fault(1)]);
  });

  it('tells pages how the job ended, live and to those that connect after', () => {
    const events = hub();
    const live: DashboardEvent[] = [];
    events.subscribe((e) => live.push(e));
    events.end({ state: 'failed', message: 'every worker is gone' });
    expect(last(live, 'end')).toEqual({ state: 'failed', message: 'every worker is gone' });
    expect(last(events.history(), 'end')).toEqual({ state: 'failed', message: 'every worker is gone' });
  });
});
