import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { smallJob } from '../small-job.js';
import { PROMTOOL, parseExposition as parse, promtoolFindings } from './exposition.js';
import { readMetrics } from './metrics-file.js';
import { runCli } from './run-cli.js';

const ENV = { DPTRAIN_TOKEN: 'metrics-test-token-0001', DPTRAIN_JOB: 'metrics-test' };
const AUTH = { headers: { authorization: `Bearer ${ENV.DPTRAIN_TOKEN}` } };

/** Waits for a state of the run, polling its files and endpoints; never for a length of time. */
async function until<T>(probe: () => Promise<T | undefined> | T | undefined): Promise<T> {
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    await delay(100);
  }
}

interface Target {
  readonly name: string;
  readonly role: string;
  readonly url: string;
}

/** Every process's GET /metrics, from cluster.json once each has its port (a worker's comes once TensorFlow.js has loaded). */
function targets(out: string): Target[] | undefined {
  const file = join(out, 'cluster.json');
  if (!existsSync(file)) return undefined;
  const cluster = JSON.parse(readFileSync(file, 'utf8')) as { processes: { name: string; role: string; ports: number[] }[] };
  if (cluster.processes.some((p) => p.ports.length === 0)) return undefined;
  return cluster.processes.map((p) => ({ name: p.name, role: p.role, url: `http://127.0.0.1:${p.ports[0]}/metrics` }));
}

/** The exposition's own counters and histogram counts (the process's left out): what may only grow. */
function counts(samples: Map<string, number>): [string, number][] {
  return [...samples].filter(([name]) => /^dptrain_(?!process_|nodejs_)[a-z_]+(_total|_count)(\{|$)/.test(name));
}

function sum(samples: Map<string, number>, pattern: RegExp): number {
  return [...samples].filter(([name]) => pattern.test(name)).reduce((total, [, value]) => total + value, 0);
}

/** The text passes promtool's checks (format, naming conventions); skipped where promtool is not installed. */
function expectPromtoolClean(text: string, what: string): void {
  if (PROMTOOL) expect(promtoolFindings(text), what).toBe('');
}

describe('GET /metrics of every role', () => {
  it('moves with the steps on the coordinator, the shard and each worker during a dptrain local run, and ends with the counts of summary.json', async () => {
    if (!PROMTOOL) console.warn("promtool is not installed (Debian: apt-get install prometheus): the expositions are checked by this test's parser only");
    const dir = mkdtempSync(join(tmpdir(), 'metrics-'));
    const out = join(dir, 'run');
    const run = runCli(['local', ...smallJob(['--epochs', '20', '--steps', '600']), '--workers', '2', '--metrics-port-base', '0', '--out', out], ENV);
    let ended = false;
    void run.then(() => (ended = true));
    // The job may end first on a fast machine: then the files at the end speak.
    const all = await until(() => (ended ? [] : targets(out)));
    expect(
      all.length === 0 ||
        all
          .map((t) => t.name)
          .sort()
          .join() === 'coordinator,ps-0,worker-0,worker-1',
    ).toBe(true);
    for (const t of all) expect((await fetch(t.url)).status, `${t.name} without the token`).toBe(401);

    type Scrape = Map<string, { text: string; samples: Map<string, number> }>;
    const scrape = async (): Promise<Scrape | undefined> => {
      const texts = await Promise.all(
        all.map((t) =>
          fetch(t.url, AUTH).then(
            (r) => (r.ok ? r.text() : undefined),
            () => undefined,
          ),
        ),
      );
      if (texts.some((text) => text === undefined)) return undefined;
      return new Map(all.map((t, i) => [t.name, { text: texts[i]!, samples: parse(texts[i]!) }]));
    };
    const first = await until(async () => (ended ? new Map() : await scrape()));
    const step = first.get('coordinator')?.samples.get('dptrain_step') ?? 0;
    const second = await until(async () => {
      if (ended) return new Map() as Scrape;
      const now = await scrape();
      return now && (now.get('coordinator')!.samples.get('dptrain_step') ?? 0) >= step + 20 ? now : undefined;
    });
    if (second.size > 0) {
      for (const t of all) {
        const [before, after] = [first.get(t.name)!.samples, second.get(t.name)!.samples];
        expectPromtoolClean(second.get(t.name)!.text, t.name);
        expect(counts(before).length, t.name).toBeGreaterThan(3);
        for (const [name, value] of counts(before)) expect(after.get(name), `${t.name} ${name}`).toBeGreaterThanOrEqual(value);
        expect(after.get('dptrain_process_resident_memory_bytes'), t.name).toBeGreaterThan(0);
      }
      const [c0, c1] = [first.get('coordinator')!.samples, second.get('coordinator')!.samples];
      expect(c1.get('dptrain_step')!).toBeGreaterThan(step);
      expect(c1.get('dptrain_job_state{state="training"}')).toBe(1);
      expect(c1.get('dptrain_coordinator_step_seconds_count')!).toBeGreaterThan(c0.get('dptrain_coordinator_step_seconds_count')!);
      expect(c1.get('dptrain_coordinator_leases_issued_total')!).toBeGreaterThan(c0.get('dptrain_coordinator_leases_issued_total')!);
      expect(Number.isFinite(c1.get('dptrain_train_loss'))).toBe(true);
      expect(sum(c1, /^dptrain_worker_phase_seconds_total\{.*phase="compute"/)).toBeGreaterThan(
        sum(c0, /^dptrain_worker_phase_seconds_total\{.*phase="compute"/),
      );
      const [s0, s1] = [first.get('ps-0')!.samples, second.get('ps-0')!.samples];
      expect(s1.get('dptrain_shard_version')!).toBeGreaterThan(s0.get('dptrain_shard_version')!);
      expect(s1.get('dptrain_shard_fold_seconds_count')!).toBeGreaterThan(s0.get('dptrain_shard_fold_seconds_count')!);
      expect(s1.get('dptrain_shard_pushes_total{result="accepted"}')!).toBeGreaterThan(s0.get('dptrain_shard_pushes_total{result="accepted"}')!);
      const workers = (scrape: Scrape, name: string): number =>
        [...scrape].filter(([n]) => n.startsWith('worker-')).reduce((total, [, s]) => total + (s.samples.get(name) ?? 0), 0);
      expect(workers(second, 'dptrain_worker_micro_batches_total')).toBeGreaterThan(workers(first, 'dptrain_worker_micro_batches_total'));
      expect(workers(second, 'dptrain_worker_compute_seconds_count')).toBeGreaterThan(workers(first, 'dptrain_worker_compute_seconds_count'));
    }

    const result = await run;
    expect(result.code, result.stderr.slice(-2000)).toBe(0);
    const last = parse(readFileSync(join(out, 'metrics.prom'), 'utf8'));
    const summary = JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8')) as {
      steps: number;
      backupLeases: number;
      testAccuracy: number;
      faults: unknown[];
      workers: { name: string; leases: number; microBatches: number }[];
      shards: { shard: number; accepted: number; version: number }[];
    };
    expect(last.get('dptrain_step')).toBe(summary.steps);
    expect(last.get('dptrain_backup_leases_total')).toBe(summary.backupLeases);
    for (const w of summary.workers) {
      expect(last.get(`dptrain_worker_micro_batches_total{worker="${w.name}"}`)).toBe(w.microBatches);
      expect(last.get(`dptrain_worker_leases_total{worker="${w.name}"}`)).toBe(w.leases);
    }
    for (const s of summary.shards) expect(last.get(`dptrain_shard_pushes_total{shard="${s.shard}",result="accepted"}`)).toBe(s.accepted);
    expect([...last.keys()].filter((k) => k.startsWith('dptrain_faults_total')).length).toBe(
      new Set(summary.faults.map((f) => (f as { kind: string }).kind)).size,
    );
    expect([...last.keys()].some((k) => /^dptrain_(process|nodejs)_/.test(k))).toBe(false);
    // The last step's and the last evaluation's numbers are the records of metrics.jsonl.
    const records = readMetrics(out);
    expect(last.get('dptrain_train_loss')).toBe(records.filter((r) => r.kind === 'step').at(-1)!.loss);
    expect(last.get('dptrain_eval_accuracy_ratio{split="test"}')).toBe(summary.testAccuracy);
    expect(last.get('dptrain_coordinator_step_seconds_count')).toBe(summary.steps);

    // Each shard and worker left its last values too: the workers' micro-batches are the coordinator's count.
    const final = (name: string): { text: string; samples: Map<string, number> } => {
      const text = readFileSync(join(out, `metrics-${name}.prom`), 'utf8');
      expectPromtoolClean(text, `metrics-${name}.prom`);
      return { text, samples: parse(text) };
    };
    expectPromtoolClean(readFileSync(join(out, 'metrics.prom'), 'utf8'), 'metrics.prom');
    const byWorker = summary.workers.map((w) => final(w.name).samples.get('dptrain_worker_micro_batches_total')!);
    const reported = byWorker.reduce((a, b) => a + b, 0);
    expect(reported).toBe(sum(last, /^dptrain_worker_micro_batches_total\{/));
    expect(reported).toBe(summary.workers.reduce((total, w) => total + w.microBatches, 0));
    const shard = final('ps-0').samples;
    expect(shard.get('dptrain_shard_pushes_total{result="accepted"}')).toBe(summary.shards[0]!.accepted);
    expect(shard.get('dptrain_shard_version')).toBe(summary.shards[0]!.version);
  });
});
