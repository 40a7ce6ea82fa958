import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, onTestFailed } from 'vitest';
import { freePort } from '../cli/live-roles.js';
import { REPO } from './build-context.js';
import { ComposeProject, docker } from './compose-project.js';
import { buildArgs, probeCompose } from './container-runtime.js';

// docker-compose.yml for real: the image built by `docker compose build`, the cluster started by
// `docker compose up` (coordinator, ps-0, two workers), trained to the end, and its parameters held
// against `dptrain train` run in the same image: bit for bit, with no fault and through a worker
// crash, a shard crash, a coordinator crash, a network partition and a worker added mid-run.
// Every wait is for a state the coordinator reports on GET /status, never for a clock.

const runtime = await probeCompose();
if (!runtime.available) console.warn(`test/containers/compose-cluster.test.ts skipped: ${runtime.reason}`);

const STEPS = 3_000;
const RUNS = '/var/lib/dptrain/runs';
const RUN = 'cluster';
const IMAGE = 'dptrain:compose-test';
// At most this long for any one state; a bound for a clear failure, not a pace the test relies on.
const STATE_WAIT_MS = 5 * 60_000;

interface Status {
  readonly state: string;
  readonly step: number;
  readonly workers: readonly { readonly name: string; readonly state: string }[];
  readonly faults: readonly { readonly kind: string }[];
}
interface Summary {
  readonly steps: number;
  readonly backend: string;
  readonly dataSource: string;
  readonly faults: readonly { readonly kind: string }[];
}

const dir = mkdtempSync(join(tmpdir(), 'compose-cluster-'));
// The containers run as the image's user `node`; they write the reference run here.
chmodSync(dir, 0o777);
const TOKEN = 'compose-cluster-test-token';
writeFileSync(join(dir, 'token.env'), `DPTRAIN_TOKEN=${TOKEN}\n`);
// docker/job.yaml, shortened; a partition is noticed after 5 s of silence instead of 10.
writeFileSync(join(dir, 'job.yaml'), `${readFileSync(join(REPO, 'docker/job.yaml'), 'utf8')}\nsteps: ${STEPS}\nworkerTimeoutMs: 5000\n`);

async function project(suffix: string): Promise<ComposeProject & { readonly port: number }> {
  const port = await freePort();
  const vars = {
    DPTRAIN_IMAGE: IMAGE,
    DPTRAIN_TOKEN_FILE: join(dir, 'token.env'),
    DPTRAIN_JOB_CONFIG: join(dir, 'job.yaml'),
    DPTRAIN_PUBLISH_PORT: String(port),
    DPTRAIN_BACKEND: 'wasm',
    DPTRAIN_RUN: RUN,
    ...(await buildArgs()),
  };
  return Object.assign(new ComposeProject(`dptrain-test-${process.pid}-${suffix}`, vars), { port });
}

describe.skipIf(!runtime.available)('docker-compose.yml under a real engine', () => {
  const projects: ComposeProject[] = [];
  let reference: Buffer;

  async function started(suffix: string): Promise<ComposeProject & { readonly port: number }> {
    const p = await project(suffix);
    projects.push(p);
    // A failed test leaves its logs in a file the failure names, then its containers go.
    onTestFailed(async () => {
      const file = join(tmpdir(), `${p.name}.log`);
      writeFileSync(file, await p.logs(10_000));
      console.error(`${p.name}: its containers' logs are in ${file}; the last lines:\n${(await p.logs(15)).trim()}`);
      await p.down();
    });
    await p.compose('up', '--detach');
    return p;
  }

  async function status(p: ComposeProject & { readonly port: number }): Promise<Status | undefined> {
    try {
      const response = await fetch(`http://127.0.0.1:${p.port}/status`, { headers: { authorization: `Bearer ${TOKEN}` } });
      return response.ok ? ((await response.json()) as Status) : undefined;
    } catch {
      return undefined; // the coordinator is restarting
    }
  }

  /** Polls /status until `done` holds; fails if the coordinator has exited before that. */
  async function waitFor(p: ComposeProject & { readonly port: number }, what: string, done: (s: Status) => boolean | Promise<boolean>): Promise<Status> {
    const [start, deadline] = [Date.now(), Date.now() + STATE_WAIT_MS];
    for (;;) {
      const s = await status(p);
      if (s && (await done(s))) {
        console.log(`${p.name}: ${what} at step ${s.step} of ${STEPS}, after ${((Date.now() - start) / 1000).toFixed(1)} s`);
        return s;
      }
      const coordinator = await p.state(p.container('coordinator'));
      if (coordinator.status === 'exited')
        throw new Error(
          `waiting for ${what}: the coordinator exited (${coordinator.exitCode}) first${s ? ` at step ${s.step}` : ''}; if the job ended, give it more than ${STEPS} steps`,
        );
      if (Date.now() > deadline) throw new Error(`waiting for ${what}: not reached in ${STATE_WAIT_MS / 1000} s; last status ${JSON.stringify(s)}`);
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  }

  /**
   * Waits for the coordinator to end the job and returns its exit status. A loaded machine only
   * slows the steps down, so what fails the wait is a job whose step stops moving, not its length.
   */
  async function finished(p: ComposeProject & { readonly port: number }): Promise<number> {
    let deadline = Date.now() + STATE_WAIT_MS;
    let last: Status | undefined;
    for (;;) {
      const state = await p.state(p.container('coordinator'));
      if (state.status === 'exited') return state.exitCode;
      const now = await status(p);
      if (now && now.step > (last?.step ?? -1)) deadline = Date.now() + STATE_WAIT_MS;
      last = now ?? last;
      if (Date.now() > deadline)
        throw new Error(
          `the coordinator still ${state.status}, its step stuck at ${last?.step} for ${STATE_WAIT_MS / 1000} s; last status ${JSON.stringify(last)}`,
        );
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
  }

  /** The run folder the coordinator wrote, copied out of its (stopped) container. */
  async function runFolder(p: ComposeProject, name: string): Promise<{ params: Buffer; summary: Summary }> {
    const out = mkdtempSync(join(dir, `${name}-`));
    await p.compose('cp', `coordinator:${RUNS}/${RUN}`, out);
    return { params: readFileSync(join(out, RUN, 'params.safetensors')), summary: JSON.parse(readFileSync(join(out, RUN, 'summary.json'), 'utf8')) as Summary };
  }

  const live = (s: Status): number => s.workers.filter((w) => w.state === 'idle' || w.state === 'busy').length;
  const count = (s: Status, kind: string): number => s.faults.filter((f) => f.kind === kind).length;

  beforeAll(async () => {
    const p = await project('build');
    projects.push(p);
    await p.compose('build');
    const size = Number(await docker(['image', 'inspect', '-f', '{{.Size}}', IMAGE]));
    console.log(`${IMAGE} built from docker/Dockerfile (${JSON.stringify(await buildArgs())}): ${(size / 1e6).toFixed(0)} MB`);
    // The reference: the same job in one process of the same image, with the coordinator's settings.
    await p.compose('run', '--rm', '--no-deps', '--no-TTY', '--volume', `${dir}:/out`, 'coordinator', 'train', '--out', '/out/reference');
    reference = readFileSync(join(dir, 'reference', 'params.safetensors'));
    await p.down();
  }, 30 * 60_000);

  afterAll(async () => {
    await Promise.all(projects.map((p) => p.down()));
    await docker(['image', 'rm', IMAGE]).catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
  });

  it(
    'trains to the end with the parameters of dptrain train in the same image',
    async () => {
      const p = await started('clean');
      expect(await finished(p)).toBe(0);
      const { params, summary } = await runFolder(p, 'clean');
      expect(summary).toMatchObject({ steps: STEPS, backend: 'wasm', dataSource: '/usr/share/datasets/fashion-mnist' });
      expect(params.equals(reference)).toBe(true);
      await p.down();
    },
    20 * 60_000,
  );

  it(
    'ends with the same bits through crashes of a worker, the shard and the coordinator, a partition and a worker added',
    async () => {
      const p = await started('faults');
      await waitFor(p, 'two workers training', (s) => s.step >= 20 && live(s) === 2);
      // The image serves the browser worker's page, whose script its coordinator bundles (esbuild in the image).
      const script = await fetch(`http://127.0.0.1:${p.port}/worker/app.js`);
      expect([script.status, script.headers.get('content-type'), (await script.text()).includes('dptrainWorker')]).toEqual([
        200,
        'text/javascript; charset=utf-8',
        true,
      ]);

      // A worker crashes: the restart policy brings its container back and it joins again.
      await p.crash('worker', 1);
      await waitFor(
        p,
        'the crashed worker back in the job',
        async (s) => count(s, 'worker-disconnected') >= 1 && live(s) === 2 && (await p.state(p.container('worker', 1))).restartCount >= 1,
      );

      // The shard crashes: restarted with --resume, it restores its checkpoint and write-ahead log.
      await p.crash('ps-0');
      await waitFor(
        p,
        'the shard restarted',
        async (s) => count(s, 'shard-restarted') >= 1 && s.state === 'training' && (await p.state(p.container('ps-0'))).restartCount >= 1,
      );

      // The coordinator crashes: restarted with --resume, it continues from the run folder and the shards.
      await p.crash('coordinator');
      await waitFor(p, 'the coordinator restarted with both workers', (s) => count(s, 'coordinator-restarted') >= 1 && s.state === 'training' && live(s) === 2);

      // A worker cut off the network: timed out, its leases re-leased; reconnected, it rejoins.
      const partitioned = p.container('worker', 2);
      await docker(['network', 'disconnect', p.network, partitioned]);
      await waitFor(p, 'the partitioned worker timed out', (s) => count(s, 'worker-timeout') >= 1);
      await docker(['network', 'connect', p.network, partitioned]);
      await waitFor(p, 'the partitioned worker back', (s) => live(s) === 2);

      // A third worker joins the running job.
      await p.compose('up', '--detach', '--no-recreate', '--scale', 'worker=3');
      await waitFor(p, 'three workers', (s) => live(s) === 3);

      expect(await finished(p)).toBe(0);
      const { params, summary } = await runFolder(p, 'faults');
      const kinds = new Set(summary.faults.map((f) => f.kind));
      expect(['worker-disconnected', 'shard-lost', 'shard-restarted', 'coordinator-restarted', 'worker-timeout'].filter((k) => !kinds.has(k))).toEqual([]);
      expect(summary.steps).toBe(STEPS);
      expect(params.equals(reference)).toBe(true);
      await p.down();
    },
    30 * 60_000,
  );
});
