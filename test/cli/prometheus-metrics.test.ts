import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { smallJob } from '../small-job.js';
import { runCli } from './run-cli.js';

const ENV = { DPTRAIN_TOKEN: 'metrics-test-token-0001', DPTRAIN_JOB: 'metrics-test' };

/** The samples of a Prometheus text exposition: `name{labels}` → value; comments checked for form. */
function parse(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line === '') continue;
    if (line.startsWith('#')) {
      expect(line).toMatch(/^# (HELP|TYPE) [a-zA-Z_:][a-zA-Z0-9_:]* .+$/);
      continue;
    }
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*(?:\{(?:[a-zA-Z_][a-zA-Z0-9_]*="[^"]*",?)*\})?) (-?[0-9.e+-]+|NaN|[+-]Inf)$/.exec(line);
    expect(m, line).not.toBeNull();
    out.set(m![1]!, Number(m![2]));
  }
  return out;
}

/** Waits for a state of the run, polling its files; never for a length of time. */
async function until<T>(probe: () => Promise<T | undefined> | T | undefined): Promise<T> {
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    await delay(100);
  }
}

describe('GET /metrics', () => {
  it('moves with the steps during a dptrain local run, and ends with the counts of summary.json', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'metrics-'));
    const out = join(dir, 'run');
    const run = runCli(['local', ...smallJob(['--epochs', '20', '--steps', '600']), '--workers', '2', '--out', out], ENV);
    let ended = false;
    void run.then(() => (ended = true));
    const coordinator = await until(() =>
      existsSync(join(out, 'cluster.json')) ? (JSON.parse(readFileSync(join(out, 'cluster.json'), 'utf8')) as { coordinator: string }).coordinator : undefined,
    );
    const url = `${coordinator.replace(/^ws/, 'http')}metrics`;
    const scrape = async (): Promise<Map<string, number> | undefined> => {
      const response = await fetch(url, { headers: { authorization: `Bearer ${ENV.DPTRAIN_TOKEN}` } }).catch(() => undefined);
      return response?.ok ? parse(await response.text()) : undefined;
    };
    expect((await fetch(url)).status).toBe(401);
    // Two scrapes some steps apart (the job may end first on a fast machine: then the file speaks).
    const first = await until(async () => (ended ? new Map() : ((await scrape()) ?? undefined)));
    const step = first.get('dptrain_step') ?? 0;
    const second = await until(async () => {
      if (ended) return new Map<string, number>();
      const now = await scrape();
      return now && (now.get('dptrain_step') ?? 0) >= step + 20 ? now : undefined;
    });
    if (second.size > 0) {
      expect(second.get('dptrain_step')!).toBeGreaterThan(step);
      const counters = [...first].filter(([name]) => /^dptrain_(?!process_|nodejs_)[a-z_]+_total(\{|$)/.test(name));
      expect(counters.length).toBeGreaterThan(5);
      for (const [name, value] of counters) expect(second.get(name), name).toBeGreaterThanOrEqual(value);
      expect(second.get('dptrain_job_state{state="training"}')).toBe(1);
      expect(second.get('dptrain_process_resident_memory_bytes')).toBeGreaterThan(0);
    }
    const result = await run;
    expect(result.code, result.stderr.slice(-2000)).toBe(0);
    const last = parse(readFileSync(join(out, 'metrics.prom'), 'utf8'));
    const summary = JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8')) as {
      steps: number;
      backupLeases: number;
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
  });
});
