import { join } from 'node:path';
import type { GenericContainer, StartedNetwork, StartedTestContainer } from 'testcontainers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO } from './build-context.js';
import { loadCompose, type Service } from './compose-model.js';
import { probeContainerRuntime } from './container-runtime.js';
import { untar } from './tar.js';

// The compose cluster for real: the image built from docker/Dockerfile, the services of
// docker-compose.yml (coordinator, ps-0, two workers) on one network, a worker killed from inside
// mid-run; training must complete with the bits of `dptrain train` run from the same image.
// Needs a Docker engine; without one the suite is skipped with one line saying so.

const runtime = await probeContainerRuntime();
if (!runtime.available) console.warn(`test/containers/cluster.test.ts skipped: no container runtime here (${runtime.reason})`);

const IMAGE = 'dptrain:containers-test';
const RUNS = '/var/lib/dptrain/runs';
// The job of docker/job.yaml (MLP on the image's Fashion-MNIST) cut to 200 steps, on wasm, whose
// bits are the same in every process (the native backend is not checked for that yet).
const VARS = { DPTRAIN_BACKEND: 'wasm', DPTRAIN_RUN: 'cluster' };
const STEPS = '200';
const TOKEN = { DPTRAIN_TOKEN: 'containers-test-token' };
const KILL_AT_STEP = 5;

const project = loadCompose(join(REPO, 'docker-compose.yml'), VARS);
const service = (name: string): Service => project.services.find((s) => s.name === name)!;

describe.skipIf(!runtime.available)('the compose cluster in containers', () => {
  let tc: typeof import('testcontainers');
  let network: StartedNetwork;
  const containers: StartedTestContainer[] = [];

  /** A container as compose would run the service: its command, environment and files. */
  function containerOf(s: Service, env: Record<string, string> = {}, command: readonly string[] = s.command): GenericContainer {
    const container = new tc.GenericContainer(IMAGE)
      .withCommand([...command])
      .withEnvironment({ ...TOKEN, ...s.environment, ...env })
      .withNetwork(network)
      .withNetworkAliases(s.name);
    // Copied rather than bind-mounted, so a remote engine works too.
    const files = s.volumes.filter((m) => !m.named).map((m) => ({ source: join(REPO, m.source), target: m.target }));
    return files.length > 0 ? container.withCopyFilesToContainer(files) : container;
  }

  /** Starts a server's container once its compose health check passes, as `depends_on: service_healthy` waits. */
  async function startHealthy(s: Service, env: Record<string, string> = {}, configure = (c: GenericContainer) => c): Promise<StartedTestContainer> {
    const container = configure(containerOf(s, env))
      .withHealthCheck({ test: [...s.healthcheck!] as ['CMD', ...string[]], interval: 1_000, timeout: 3_000, retries: 120 })
      .withWaitStrategy(tc.Wait.forHealthCheck());
    const started = await container.start();
    containers.push(started);
    return started;
  }

  /** Waits for a container to stop and gives its exit status. */
  async function exitOf(container: StartedTestContainer): Promise<number> {
    const client = await tc.getContainerRuntimeClient();
    const { StatusCode } = (await client.container.getById(container.getId()).wait()) as { StatusCode: number };
    return StatusCode;
  }

  /** The files of a folder of a (stopped) container. */
  async function folderOf(container: StartedTestContainer, path: string): Promise<Map<string, Buffer>> {
    const chunks: Buffer[] = [];
    for await (const chunk of await container.copyArchiveFromContainer(path)) chunks.push(Buffer.from(chunk as Buffer));
    const files = untar(Buffer.concat(chunks));
    const base = path.split('/').at(-1)!;
    return new Map([...files].map(([name, bytes]) => [name.slice(base.length + 1), bytes]));
  }

  beforeAll(async () => {
    tc = await import('testcontainers');
    // libtensorflow has builds for x86-64 Linux only; elsewhere the image falls back to wasm.
    await tc.GenericContainer.fromDockerfile(REPO, 'docker/Dockerfile')
      .withBuildArgs({ TFJS_NODE: process.arch === 'x64' ? 'required' : 'optional' })
      .build(IMAGE, { deleteOnExit: false });
    network = await new tc.Network().start();
  }, 30 * 60_000);

  afterAll(async () => {
    await Promise.allSettled(containers.map((c) => c.stop({ timeout: 1_000 })));
    await network?.stop();
  });

  it('completes the job after a worker is killed, with the parameters of dptrain train in the same image', async () => {
    let reached: () => void = () => undefined;
    const stepReached = new Promise<void>((resolve) => (reached = resolve));
    let pending = '';
    const coordinator = await startHealthy(service('coordinator'), { DPTRAIN_STEPS: STEPS }, (c) =>
      c.withLogConsumer((stream) =>
        stream.on('data', (chunk: Buffer | string) => {
          const lines = (pending + chunk.toString()).split('\n');
          pending = lines.pop()!;
          for (const line of lines) if (/"event":"step"/.test(line) && JSON.parse(line.slice(line.indexOf('{'))).step >= KILL_AT_STEP) reached();
        }),
      ),
    );
    await startHealthy(service('ps-0'));
    const workers = await Promise.all([1, 2].map((i) => containerOf(service('worker'), { DPTRAIN_NAME: `worker-${i}` }).withNetworkAliases(`worker-${i}`).start()));
    containers.push(...workers);

    await stepReached;
    // A crash from inside, as README.md shows: tini (PID 1) ends with the status of the killed process.
    await workers[0]!.exec(['sh', '-c', 'kill -9 -1']).catch(() => undefined);
    expect(await exitOf(workers[0]!)).toBe(137);
    expect(await exitOf(coordinator)).toBe(0);
    const cluster = await folderOf(coordinator, `${RUNS}/${VARS.DPTRAIN_RUN}`);

    const reference = await containerOf(service('coordinator'), { DPTRAIN_STEPS: STEPS, DPTRAIN_OUT: `${RUNS}/reference` }, ['train'])
      .withWaitStrategy(tc.Wait.forOneShotStartup())
      .withStartupTimeout(10 * 60_000)
      .start();
    containers.push(reference);
    const single = await folderOf(reference, `${RUNS}/reference`);

    const summary = JSON.parse(cluster.get('summary.json')!.toString()) as { steps: number; backend: string; dataSource: string; faults: { kind: string; name: string }[] };
    expect(summary).toMatchObject({ steps: Number(STEPS), backend: 'wasm', dataSource: '/usr/share/datasets/fashion-mnist' });
    expect(summary.faults.map((f) => [f.kind, f.name])).toEqual([['worker-disconnected', 'worker-1']]);
    expect(cluster.get('params.safetensors')!.equals(single.get('params.safetensors')!)).toBe(true);
  }, 20 * 60_000);
});
