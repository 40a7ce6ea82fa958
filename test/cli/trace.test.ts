import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { smallJob } from '../small-job.js';
import { runCli } from './run-cli.js';

const ENV = { DPTRAIN_TOKEN: 'trace-test-token-000001', DPTRAIN_JOB: 'trace-test' };
const STEPS = 30;
/**
 * How far two processes' trace clocks may disagree: each anchors itself to the wall clock's
 * millisecond tick (trace-events.ts), measured within ±0.8 ms of it for processes started under
 * stress-ng; a CI run once saw a worker's lease begin 30 µs before the coordinator issued it.
 */
const CLOCK_AGREEMENT_US = 2_000;

interface Event {
  readonly name: string;
  readonly ph: string;
  readonly ts: number;
  readonly pid: number;
  readonly tid: number;
  readonly args?: Record<string, string | number | boolean>;
}

/** The Chrome trace event format's rules for what the merge writes; returns the events. */
function checkChromeTrace(json: unknown): Event[] {
  expect(json).toMatchObject({ displayTimeUnit: 'ms' });
  const events = (json as { traceEvents: Event[] }).traceEvents;
  expect(Array.isArray(events)).toBe(true);
  for (const e of events) {
    expect(['B', 'E', 'i', 'M'], JSON.stringify(e)).toContain(e.ph);
    expect(typeof e.name === 'string' && e.name !== '', JSON.stringify(e)).toBe(true);
    expect(Number.isFinite(e.ts) && e.ts >= 0, JSON.stringify(e)).toBe(true);
    expect(Number.isInteger(e.pid) && Number.isInteger(e.tid), JSON.stringify(e)).toBe(true);
  }
  // Every B has its E on the same pid and tid, later in the file and not earlier in time, and
  // pairs nest (an E ends the innermost open span of its track).
  const open = new Map<string, Event[]>();
  for (const e of events) {
    const track = `${e.pid}/${e.tid}`;
    if (e.ph === 'B') open.set(track, [...(open.get(track) ?? []), e]);
    if (e.ph !== 'E') continue;
    const begun = open.get(track)?.pop();
    expect(begun, `an E without its B: ${JSON.stringify(e)}`).toBeDefined();
    expect(begun!.name).toBe(e.name);
    expect(e.ts).toBeGreaterThanOrEqual(begun!.ts);
  }
  expect([...open.values()].flat()).toEqual([]);
  return events;
}

describe('dptrain local --trace, dptrain trace merge', () => {
  it('records every process of a run, and merges them into one timeline in causal order', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'trace-'));
    // Inside the run folder: made by the first process to record, after the coordinator claimed the folder.
    const traces = join(dir, 'run', 'traces');
    const run = await runCli(['local', ...smallJob(['--steps', String(STEPS)]), '--workers', '2', '--out', join(dir, 'run'), '--trace', traces], ENV);
    expect(run.code, run.stderr.slice(-2000)).toBe(0);

    const merge = await runCli(['trace', 'merge', traces]);
    expect(merge.code, merge.stderr).toBe(0);
    expect(merge.stdout).toContain(`wrote ${join(traces, 'trace.json')}: 4 processes`);
    const events = checkChromeTrace(JSON.parse(readFileSync(join(traces, 'trace.json'), 'utf8')));

    // One process per role process, named; every event belongs to one of them.
    const processes = new Map(events.filter((e) => e.name === 'process_name').map((e) => [String(e.args!.name), e.pid]));
    expect([...processes.keys()].sort()).toEqual(['coordinator', 'ps-0', 'worker-0', 'worker-1']);
    expect(new Set(processes.values()).size).toBe(4);
    expect(events.every((e) => [...processes.values()].includes(e.pid))).toBe(true);
    const threadNames = new Set(events.filter((e) => e.name === 'thread_name').map((e) => e.args!.name));
    for (const track of ['lease', 'pull', 'compute', 'push', 'fold', 'update', 'reply', 'step', 'leaseIssued', 'stepApplied'])
      expect(threadNames).toContain(track);

    // Each micro-batch of each step, along the earliest of each event that carried it:
    // leaseIssued ≤ the worker's lease ≤ its compute ≤ the shard's fold ≤ its update ≤ stepApplied.
    // A compute span covers one micro-batch, or a run of them computed together (microBatches of them).
    const covers = (e: Event, mb: number): boolean => {
      const first = Number(e.args!.microBatchId);
      return first <= mb && mb < first + Number(e.args!.microBatches ?? 1);
    };
    const of = (process: string, ph: string, name: string): Event[] => events.filter((e) => e.pid === processes.get(process) && e.ph === ph && e.name === name);
    /** A process's spans of one name: each B with the E that ends it. */
    const spans = (process: string, name: string): [Event, Event][] => {
      const begun = new Map<number, Event>();
      const pairs: [Event, Event][] = [];
      for (const e of events.filter((x) => x.pid === processes.get(process) && x.name === name)) {
        if (e.ph === 'B') begun.set(e.tid, e);
        if (e.ph === 'E') pairs.push([begun.get(e.tid)!, e]);
      }
      return pairs;
    };
    const earliest = (list: Event[]): Event | undefined => list.reduce<Event | undefined>((a, e) => (a === undefined || e.ts < a.ts ? e : a), undefined);
    const workers = ['worker-0', 'worker-1'];
    const microBatchesPerStep = 4;
    for (let step = 0; step < STEPS; step++) {
      const applied = earliest(of('coordinator', 'i', 'stepApplied').filter((e) => e.args!.step === step && e.args!.shard === 0));
      const update = earliest(of('ps-0', 'B', 'update').filter((e) => e.args!.step === step));
      expect(applied, `step ${step} applied`).toBeDefined();
      expect(update, `step ${step} updated`).toBeDefined();
      expect(update!.ts).toBeLessThanOrEqual(applied!.ts);
      for (let mb = 0; mb < microBatchesPerStep; mb++) {
        const at = `step ${step} micro-batch ${mb}`;
        const folds = of('ps-0', 'B', 'fold').filter((e) => {
          const first = Number(e.args!.microBatchId);
          return e.args!.step === step && first <= mb && mb < first + Number(e.args!.count ?? 1);
        });
        const fold = earliest(folds);
        const compute = earliest(workers.flatMap((w) => of(w, 'B', 'compute')).filter((e) => e.args!.step === step && covers(e, mb)));
        expect(fold, `${at} folded`).toBeDefined();
        expect(compute, `${at} computed`).toBeDefined();
        const worker = [...processes].find(([, pid]) => pid === compute!.pid)![0];
        // The lease that computed it: the worker's lease of that step open at the compute.
        const lease = spans(worker, 'lease').find(([b, e]) => b.args!.step === step && b.ts <= compute!.ts && compute!.ts <= e.ts)?.[0];
        expect(lease, `${at}: the lease of its compute`).toBeDefined();
        const issued = of('coordinator', 'i', 'leaseIssued').find((e) => e.args!.leaseId === lease!.args!.leaseId);
        expect(issued?.args).toMatchObject({ step, workerId: Number(worker.slice('worker-'.length)) });
        const chain = [issued!, lease!, compute!, fold!, update!, applied!];
        // Within a process the order is exact; from one process to another it holds up to how far
        // their trace clocks can disagree (each is anchored to the wall clock's millisecond tick).
        const disorder = chain.slice(1).filter((e, i) => e.ts < chain[i]!.ts - (e.pid === chain[i]!.pid ? 0 : CLOCK_AGREEMENT_US));
        expect(disorder, `${at}: leaseIssued, lease, compute, fold, update, stepApplied at ${chain.map((e) => e.ts).join(', ')} µs`).toEqual([]);
      }
    }

    // A new run refuses the folder of this one's traces before starting anything.
    const again = await runCli(['local', ...smallJob(['--steps', '1']), '--workers', '1', '--out', join(dir, 'run2'), '--trace', traces], ENV);
    expect(again.code).toBe(1);
    expect(again.stderr).toContain(
      `--trace ${traces} already holds the traces of an earlier run (coordinator.trace.jsonl, ps-0.trace.jsonl, worker-0.trace.jsonl`,
    );
  });
});
