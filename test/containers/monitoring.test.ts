import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, onTestFailed } from 'vitest';
import { parse, stringify } from 'yaml';
import { freePort } from '../cli/live-roles.js';
import { REPO } from './build-context.js';
import { ComposeProject, docker } from './compose-project.js';
import { buildArgs, probeCompose } from './container-runtime.js';

// The `monitoring` profile of docker-compose.yml for real: `docker compose --profile monitoring
// up` starts the cluster and the Prometheus of docker/prometheus, which must find every dptrain
// target up (the job's token reaching it at run time) and record the job's step as it grows.
// Every wait is for a state Prometheus' HTTP API reports, never for a clock.

const runtime = await probeCompose();
if (!runtime.available) console.warn(`test/containers/monitoring.test.ts skipped: ${runtime.reason}`);

const IMAGE = 'dptrain:monitoring-test';
const PROMETHEUS_IMAGE = 'dptrain-prometheus:monitoring-test';
const TOKEN = 'monitoring-test-token-0123456789';
// The targets each scrape job of docker/prometheus/prometheus.yml must have up: the compose
// file's services without other profiles: one shard, two worker replicas.
const TARGETS: Readonly<Record<string, number>> = { coordinator: 1, ps: 1, worker: 2 };
// At most this long for any one state; a bound for a clear failure, not a pace the test relies on.
const STATE_WAIT_MS = 5 * 60_000;

interface Target {
  readonly labels: { readonly job: string; readonly instance: string };
  readonly health: string;
  readonly lastError: string;
}
interface Sample {
  readonly metric: Readonly<Record<string, string>>;
  readonly value: readonly [number, string];
}

const dir = mkdtempSync(join(tmpdir(), 'compose-monitoring-'));
writeFileSync(join(dir, 'token.env'), `DPTRAIN_TOKEN=${TOKEN}\n`);
// docker/job.yaml with epochs enough to outlast the test, which ends it with `down`.
writeFileSync(join(dir, 'job.yaml'), stringify({ ...(parse(readFileSync(join(REPO, 'docker/job.yaml'), 'utf8')) as object), epochs: 1000 }));

describe.skipIf(!runtime.available)('docker compose --profile monitoring', () => {
  let p: ComposeProject;
  let prometheusPort: number;

  beforeAll(async () => {
    prometheusPort = await freePort();
    p = new ComposeProject(
      `dptrain-test-${process.pid}-monitoring`,
      {
        DPTRAIN_IMAGE: IMAGE,
        DPTRAIN_PROMETHEUS_IMAGE: PROMETHEUS_IMAGE,
        DPTRAIN_TOKEN_FILE: join(dir, 'token.env'),
        DPTRAIN_JOB_CONFIG: join(dir, 'job.yaml'),
        DPTRAIN_PUBLISH_PORT: String(await freePort()),
        DPTRAIN_PROMETHEUS_PORT: String(prometheusPort),
        DPTRAIN_BACKEND: 'wasm',
        ...(await buildArgs()),
      },
      ['monitoring'],
    );
    const start = Date.now();
    await p.compose('build');
    console.log(`${IMAGE} and ${PROMETHEUS_IMAGE} built in ${((Date.now() - start) / 1000).toFixed(1)} s`);
  }, 30 * 60_000);

  afterAll(async () => {
    await p?.down();
    await Promise.all([IMAGE, PROMETHEUS_IMAGE].map((image) => docker(['image', 'rm', image]).catch(() => undefined)));
    rmSync(dir, { recursive: true, force: true });
  });

  /** GET of Prometheus' HTTP API on its published port: the `data` of a success, else undefined (not up yet). */
  async function api<T>(path: string): Promise<T | undefined> {
    try {
      const response = await fetch(`http://127.0.0.1:${prometheusPort}/api/v1/${path}`);
      const body = (await response.json()) as { status: string; data: T };
      return response.ok && body.status === 'success' ? body.data : undefined;
    } catch {
      return undefined;
    }
  }

  /** Polls `probe` until it returns a value; fails at once when a container it needs has exited. */
  async function until<T>(what: string, probe: () => Promise<T | undefined>, last: () => unknown): Promise<T> {
    const [start, deadline] = [Date.now(), Date.now() + STATE_WAIT_MS];
    for (;;) {
      const value = await probe();
      if (value !== undefined) {
        console.log(`${p.name}: ${what} after ${((Date.now() - start) / 1000).toFixed(1)} s`);
        return value;
      }
      for (const service of ['coordinator', 'prometheus']) {
        const state = await p.state(p.container(service));
        if (state.status === 'exited') throw new Error(`waiting for ${what}: ${service} exited (${state.exitCode}) first; last seen ${JSON.stringify(last())}`);
      }
      if (Date.now() > deadline) throw new Error(`waiting for ${what}: not reached in ${STATE_WAIT_MS / 1000} s; last seen ${JSON.stringify(last())}`);
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
  }

  it(
    "has Prometheus scrape every dptrain target with the job's token and record dptrain_step as it grows",
    async () => {
      onTestFailed(async () => {
        const file = join(tmpdir(), `${p.name}.log`);
        writeFileSync(file, await p.logs(10_000));
        console.error(`${p.name}: its containers' logs are in ${file}; the last lines:\n${(await p.logs(15)).trim()}`);
      });
      await p.compose('up', '--detach');

      let targets: readonly Target[] = [];
      await until(
        `targets ${JSON.stringify(TARGETS)} up`,
        async () => {
          targets = (await api<{ activeTargets: Target[] }>('targets'))?.activeTargets ?? targets;
          const up = (job: string): number => targets.filter((t) => t.labels.job === job && t.health === 'up').length;
          return Object.entries(TARGETS).every(([job, count]) => up(job) === count) ? true : undefined;
        },
        () => targets.map((t) => ({ ...t.labels, health: t.health, lastError: t.lastError })),
      );
      expect([...new Set(targets.map((t) => t.labels.job))].sort()).toEqual(Object.keys(TARGETS).sort());

      // dptrain_step as Prometheus has it: above 0, then above that at a later scrape.
      let samples: readonly Sample[] = [];
      const step = async (above: number): Promise<number | undefined> => {
        samples = (await api<{ result: Sample[] }>(`query?query=dptrain_step`))?.result ?? samples;
        const value = samples.length === 1 ? Number(samples[0]!.value[1]) : undefined;
        return value !== undefined && value > above ? value : undefined;
      };
      const first = await until(
        'dptrain_step above 0',
        () => step(0),
        () => samples,
      );
      await until(
        `dptrain_step above ${first}`,
        () => step(first),
        () => samples,
      );
      expect(samples[0]!.metric).toMatchObject({ job: 'coordinator' });
    },
    20 * 60_000,
  );
});
