import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { isAbsolute, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { buildContext, REPO } from './build-context.js';
import { hostEnvironment, loadCompose, type ComposeProject, type Service } from './compose-model.js';
import { imageLayout } from './image-layout.js';
import { dryRun, type Settings } from './dry-run.js';
import { readableEnv, ROLES } from './role-env.js';

// docker-compose.yml against the code, without a Docker engine: each service's command line goes
// through the CLI's own dry run with the service's environment, and what it resolves must agree
// with the ports, volumes and other services of the file.

const LAYOUTS = [
  { name: 'one shard', vars: {}, profiles: [] },
  { name: 'two shards', vars: { DPTRAIN_PS_SHARDS: '2' }, profiles: ['shards-2'] },
] as const;
// Stands in for docker/token.env, which is never committed.
const TOKEN = { DPTRAIN_TOKEN: 'compose-test-token' };
const image = imageLayout();

const projects = LAYOUTS.map((layout) => ({ layout, project: loadCompose(join(REPO, 'docker-compose.yml'), layout.vars, layout.profiles) }));

const resolved = new Map<string, Promise<Settings>>();
/** The dry run of a service (each distinct command line and environment once). */
function settingsOf(service: Service): Promise<Settings> {
  const env = { ...TOKEN, ...hostEnvironment(service, REPO) };
  const key = JSON.stringify([service.command, env]);
  if (!resolved.has(key)) resolved.set(key, dryRun(service.command, env));
  return resolved.get(key)!;
}

const byRole = (project: ComposeProject, role: string): Service[] => project.services.filter((s) => s.command[0] === role);
const under = (path: string, dir: string): boolean => path === dir || path.startsWith(`${dir}/`);

describe('docker-compose.yml', () => {
  it('runs one image, built from docker/Dockerfile, in every service', () => {
    const services = projects.flatMap(({ project }) => project.services);
    expect(new Set(services.map((s) => s.image)).size).toBe(1);
    for (const s of services)
      expect({ service: s.name, build: { ...s.build, args: undefined } }).toEqual({
        service: s.name,
        build: { context: '.', dockerfile: 'docker/Dockerfile', args: undefined },
      });
    expect(existsSync(join(REPO, 'docker/Dockerfile'))).toBe(true);
    // Build arguments handed on from the environment must be ARGs the Dockerfile declares.
    const declared = readFileSync(join(REPO, 'docker/Dockerfile'), 'utf8')
      .match(/^ARG \w+/gm)!
      .map((a) => a.slice(4));
    const passed = services.flatMap((s) => s.build?.args ?? []);
    expect(passed.length).toBeGreaterThan(0);
    expect(passed.filter((a) => !declared.includes(a))).toEqual([]);
  });

  it('gives every service a dptrain role that its own validation accepts with the service environment', async () => {
    for (const { layout, project } of projects) {
      for (const service of project.services) {
        const role = service.command[0]!;
        expect(ROLES).toContain(role);
        const readable = await readableEnv(role);
        const unread = Object.keys(service.environment).filter((n) => !readable.has(n));
        expect({ layout: layout.name, service: service.name, unread }).toEqual({ layout: layout.name, service: service.name, unread: [] });
      }
      // Rejects with the CLI's message when the role refuses its settings.
      await Promise.all(project.services.map(settingsOf));
    }
  });

  it("points every process at the coordinator's port, the one it publishes", async () => {
    for (const { project } of projects) {
      const [coordinator] = byRole(project, 'coordinator');
      const port = (await settingsOf(coordinator!)).options!.port;
      expect(coordinator!.ports.map((p) => p.target)).toEqual([port]);
      for (const service of project.services.filter((s) => s !== coordinator)) {
        const url = new URL(String((await settingsOf(service)).options!.coordinator));
        expect({ service: service.name, host: url.hostname, port: Number(url.port) }).toEqual({ service: service.name, host: coordinator!.name, port });
      }
    }
  });

  it('gives the workers the backend the coordinator evaluates on', async () => {
    const { project } = projects[0]!;
    const [coordinator, worker] = await Promise.all([settingsOf(byRole(project, 'coordinator')[0]!), settingsOf(byRole(project, 'worker')[0]!)]);
    expect(worker.options!.backend).toBe(coordinator.config!.backend);
  });

  it('runs one parameter server per shard, each announcing its service name to the workers', async () => {
    for (const { layout, project } of projects) {
      const shards = (await settingsOf(byRole(project, 'coordinator')[0]!)).config!.psShards;
      const servers = await Promise.all(byRole(project, 'ps').map(async (s) => ({ service: s.name, options: (await settingsOf(s)).options! })));
      expect({ layout: layout.name, shards: servers.map((s) => s.options.shard).sort() }).toEqual({
        layout: layout.name,
        shards: Array.from({ length: shards }, (_, i) => i),
      });
      // The shard listens on the address its --host resolves to and announces ws://host:port/ to workers.
      for (const s of servers) expect(s.options.host).toBe(s.service);
    }
  });

  it('keeps the run folder on the named volume the image prepares for its user, and mounts the job file read-only', async () => {
    const { project } = projects[0]!;
    const coordinator = byRole(project, 'coordinator')[0]!;
    const { config } = await settingsOf(coordinator);
    const volume = coordinator.volumes.find((m) => m.named && under(config!.out, m.target));
    expect(volume, `no named volume holds ${config!.out}`).toBeDefined();
    expect(project.volumes).toContain(volume!.source);
    expect(image.ownedDirs).toContain(volume!.target);
    const file = coordinator.environment.DPTRAIN_CONFIG!;
    const bind = coordinator.volumes.find((m) => !m.named && m.target === file);
    expect(bind?.readOnly).toBe(true);
    for (const ps of byRole(project, 'ps')) expect(ps.volumes.filter((m) => m.named).map((m) => m.target)).toEqual([volume!.target]);
  });

  it('checks the health of each server through a script the image holds, and starts the others once the coordinator is healthy', () => {
    for (const { project } of projects) {
      for (const service of [...byRole(project, 'coordinator'), ...byRole(project, 'ps')]) {
        const [kind, program, script] = service.healthcheck ?? [];
        expect({ service: service.name, kind, program }).toEqual({ service: service.name, kind: 'CMD', program: 'node' });
        expect(isAbsolute(script!) && existsSync(image.hostPath(script!))).toBe(true);
      }
      for (const service of project.services.filter((s) => s.command[0] !== 'coordinator')) {
        expect({ service: service.name, dependsOn: service.dependsOn }).toEqual({
          service: service.name,
          dependsOn: { coordinator: { condition: 'service_healthy' } },
        });
      }
    }
  });

  it('restarts a process that crashed or was killed, and leaves down one that the coordinator shut down', () => {
    // on-failure: restart on a non-zero exit; a role exits 0 only after the coordinator's shutdown.
    for (const service of projects[1]!.project.services)
      expect({ service: service.name, restart: service.restart }).toEqual({ service: service.name, restart: expect.stringMatching(/^on-failure(:\d+)?$/) });
    // A coordinator refused at start-up would be refused again: its retries are bounded.
    expect(byRole(projects[0]!.project, 'coordinator')[0]!.restart).toMatch(/^on-failure:\d+$/);
  });

  it('takes the token from an env file that neither git nor the build context carries', () => {
    const files = new Set(projects.flatMap(({ project }) => project.services.flatMap((s) => s.envFiles)));
    expect([...files]).toEqual(['docker/token.env']);
    expect(buildContext().ignores('docker/token.env')).toBe(true);
    // Exits 0 when git ignores the path (throws otherwise).
    execFileSync('git', ['check-ignore', '-q', 'docker/token.env'], { cwd: REPO });
  });
});

// The `monitoring` profile: Prometheus (docker/prometheus) beside the cluster, nothing else changed.
describe('docker-compose.yml, profile monitoring', () => {
  const monitored = loadCompose(join(REPO, 'docker-compose.yml'), {}, ['monitoring']);
  // Every service a scrape target may name: Prometheus finds those of the profiles that are up.
  const all = loadCompose(join(REPO, 'docker-compose.yml'), { DPTRAIN_PS_SHARDS: '2' }, ['monitoring', 'shards-2']).services;
  const added = monitored.services.filter((s) => s.profiles.includes('monitoring'));
  const prometheus = added[0]!;
  interface ScrapeConfig {
    readonly job_name: string;
    readonly authorization?: { readonly credentials_file?: string };
    readonly static_configs?: readonly { readonly targets: readonly string[] }[];
    readonly dns_sd_configs?: readonly { readonly names: readonly string[]; readonly type: string; readonly port: number }[];
  }
  const scrapes = (parse(readFileSync(join(REPO, 'docker/prometheus/prometheus.yml'), 'utf8')) as { scrape_configs: ScrapeConfig[] }).scrape_configs;

  it('adds one Prometheus built from docker/prometheus, published on the loopback only, and leaves the other services as they are', () => {
    expect(added.map((s) => ({ name: s.name, build: s.build?.context }))).toEqual([{ name: 'prometheus', build: 'docker/prometheus' }]);
    expect(monitored.services.filter((s) => s !== prometheus)).toEqual(projects[0]!.project.services);
    expect(prometheus.ports.map((p) => p.published.split(':')[0])).toEqual(['127.0.0.1']);
  });

  it("scrapes dptrain services at ports they listen on, each with the token file the image's entrypoint writes from the dptrain services' env file", async () => {
    expect(prometheus.envFiles).toEqual(byRole(projects[0]!.project, 'coordinator')[0]!.envFiles);
    const written = /^printf .*"\$DPTRAIN_TOKEN" *>(\S+)$/m.exec(readFileSync(join(REPO, 'docker/prometheus/entrypoint.sh'), 'utf8'))?.[1];
    expect(written).toBeDefined();
    const targets = scrapes.flatMap((c) => [
      ...(c.static_configs ?? []).flatMap((sc) => sc.targets.map((t) => ({ job: c.job_name, host: t.split(':')[0]!, port: Number(t.split(':')[1]) }))),
      ...(c.dns_sd_configs ?? []).flatMap((sd) => sd.names.map((host) => ({ job: c.job_name, host, port: sd.port }))),
    ]);
    expect(targets.length).toBeGreaterThan(0);
    for (const c of scrapes) expect({ job: c.job_name, file: c.authorization?.credentials_file }).toEqual({ job: c.job_name, file: written });
    for (const t of targets) {
      const service = all.find((s) => s.name === t.host);
      expect(service, `${t.job}: no service ${t.host}`).toBeDefined();
      // Its port, and a worker's metrics port; on its service name's address or on every address.
      const { options } = (await settingsOf(service!)) as { options: { host?: string; port?: number; metrics?: { host: string; port: number } } };
      const listening = [{ host: options.host, port: options.port }, ...(options.metrics ? [options.metrics] : [])];
      const reached = listening.some((l) => l.port === t.port && [t.host, '0.0.0.0', '::'].includes(l.host!));
      expect({ ...t, reached }).toEqual({ ...t, reached: true });
    }
  });
});
