import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { buildContext, REPO } from './build-context.js';
import { dryRun, type Settings } from './dry-run.js';
import { imageLayout } from './image-layout.js';
import { loadManifests, portNumber, workloads, type Container, type K8sObject, type Workload } from './k8s-model.js';
import { readableEnv, ROLES } from './role-env.js';

// docker/k8s against the code, without a cluster: every YAML document parsed, each container's
// command line through the CLI's own dry run with its environment (values from the downward API
// and the Secret stood in for), and the results held against Services, volumes and replicas.

const DIR = join(REPO, 'docker/k8s');
const { objects, kustomization, files } = loadManifests(DIR);
const pods = workloads(objects);
const image = imageLayout();
const TOKEN = 'k8s-test-token-0001';
const POD_IP = '10.1.2.3';

const the = (kind: string, name?: string): K8sObject[] => objects.filter((o) => o.kind === kind && (name === undefined || o.metadata.name === name));
const roleOf = (c: Container): string => (c.args ?? c.command ?? [])[0]!;
const podOf = (role: string): { workload: Workload; container: Container } => {
  for (const workload of pods) for (const container of workload.pod.containers) if (roleOf(container) === role) return { workload, container };
  throw new Error(`no container runs dptrain ${role}`);
};

/** The container's environment, valueFrom resolved as the kubelet would for pod 0, and ConfigMap mounts written to disk. */
function environment(workload: Workload, container: Container): Record<string, string> {
  const mounts = new Map<string, string>();
  for (const mount of container.volumeMounts ?? []) {
    const configMap = workload.pod.volumes?.find((v) => v.name === mount.name)?.configMap;
    if (!configMap) continue;
    const dir = mkdtempSync(join(tmpdir(), 'configmap-'));
    for (const [key, text] of Object.entries(the('ConfigMap', configMap.name)[0]!.data ?? {})) writeFileSync(join(dir, key), text);
    mounts.set(mount.mountPath, dir);
  }
  const fields: Record<string, string> = { 'status.podIP': POD_IP, 'metadata.name': `${workload.object.metadata.name}-0` };
  if (workload.object.kind === 'StatefulSet') fields["metadata.labels['apps.kubernetes.io/pod-index']"] = '0';
  const env: Record<string, string> = {};
  for (const v of container.env ?? []) {
    const field = v.valueFrom?.fieldRef?.fieldPath;
    let value = v.valueFrom?.secretKeyRef ? TOKEN : field !== undefined ? fields[field] : v.value;
    if (value === undefined)
      throw new Error(`${workload.object.metadata.name}: env ${v.name} has no value this pod would get (${JSON.stringify(v.valueFrom)})`);
    for (const [path, dir] of mounts) if (value === path || value.startsWith(`${path}/`)) value = join(dir, relative(path, value));
    env[v.name] = value;
  }
  return env;
}

const resolved = new Map<string, Promise<Settings>>();
function settingsOf(role: string): Promise<Settings> {
  if (!resolved.has(role)) {
    const { workload, container } = podOf(role);
    resolved.set(role, dryRun(container.args ?? [], environment(workload, container)));
  }
  return resolved.get(role)!;
}

describe('docker/k8s', () => {
  it('applies every manifest of the folder through the kustomization', () => {
    expect([...(kustomization.resources as string[])].sort()).toEqual([...files].sort());
    expect(objects.every((o) => typeof o.kind === 'string' && typeof o.metadata?.name === 'string')).toBe(true);
  });

  it('runs one image in every container, the one the kustomization sets', () => {
    const images = new Set(pods.flatMap((w) => w.pod.containers.map((c) => c.image)));
    expect(images.size).toBe(1);
    const [name] = [...images][0]!.split(':');
    expect((kustomization.images as { name: string }[]).map((i) => i.name)).toEqual([name]);
  });

  it('gives every container a dptrain role that its own validation accepts with the pod environment', async () => {
    const roles = pods.flatMap((w) => w.pod.containers.map(roleOf));
    expect([...roles].sort()).toEqual([...ROLES].sort());
    for (const workload of pods) {
      for (const container of workload.pod.containers) {
        const readable = await readableEnv(roleOf(container));
        const unread = (container.env ?? []).map((v) => v.name).filter((n) => !readable.has(n));
        expect({ container: container.name, unread }).toEqual({ container: container.name, unread: [] });
      }
    }
    await Promise.all(ROLES.map(settingsOf));
  });

  it('reaches the coordinator through its Service, on the port it listens on', async () => {
    const { workload, container } = podOf('coordinator');
    const port = (await settingsOf('coordinator')).options!.port as number;
    expect(container.ports!.map((p) => p.containerPort)).toEqual([port]);
    const services = the('Service').filter((s) => Object.entries(s.spec!.selector as Record<string, string>).every(([k, v]) => workload.podLabels[k] === v));
    expect(services.map((s) => s.metadata.name)).toHaveLength(1);
    const servicePort = (services[0]!.spec!.ports as { port: number; targetPort: string | number }[])[0]!;
    expect(portNumber(container, servicePort.targetPort)).toBe(port);
    for (const role of ['ps', 'worker']) {
      const url = new URL(String((await settingsOf(role)).options!.coordinator));
      expect({ role, host: url.hostname, port: Number(url.port) }).toEqual({ role, host: services[0]!.metadata.name, port: servicePort.port });
    }
    for (const probe of [container.startupProbe, container.readinessProbe]) expect(portNumber(container, probe!.httpGet!.port)).toBe(port);
    for (const probe of [container.startupProbe, container.readinessProbe]) expect(probe!.httpGet!.path).toBe('/healthz');
  });

  it('runs as many parameter-server pods as the job has shards, each announcing its pod IP on its port', async () => {
    const { workload, container } = podOf('ps');
    const [coordinator, ps] = await Promise.all([settingsOf('coordinator'), settingsOf('ps')]);
    expect(workload.object.kind).toBe('StatefulSet');
    expect(workload.object.spec!.replicas).toBe(coordinator.config!.psShards);
    // Pod 0 serves shard 0 (the pod-index label), listening on and announcing its own address.
    expect(ps.options).toMatchObject({ shard: 0, host: POD_IP });
    expect(container.ports!.map((p) => p.containerPort)).toEqual([ps.options!.port]);
    expect(portNumber(container, container.readinessProbe!.tcpSocket!.port)).toBe(ps.options!.port);
    const templates = (workload.object.spec!.volumeClaimTemplates as { metadata: { name: string } }[]).map((t) => t.metadata.name);
    expect(container.volumeMounts!.filter((m) => templates.includes(m.name)).map((m) => m.mountPath)).toEqual(['/var/lib/dptrain/checkpoints']);
  });

  it('gives the workers the backend the coordinator evaluates on', async () => {
    const [coordinator, worker] = await Promise.all([settingsOf('coordinator'), settingsOf('worker')]);
    expect(worker.options!.backend).toBe(coordinator.config!.backend);
    expect(podOf('worker').workload.object.kind).toBe('Deployment');
  });

  it('runs the coordinator as a Job that restarts on failure only, reading the job of docker/job.yaml', async () => {
    const { workload, container } = podOf('coordinator');
    expect(workload.object.kind).toBe('Job');
    expect(workload.pod.restartPolicy).toBe('OnFailure');
    expect(typeof workload.object.spec!.backoffLimit).toBe('number');
    // A liveness failure would restart the job from the beginning.
    expect(container.livenessProbe).toBeUndefined();
    const file = container.env!.find((v) => v.name === 'DPTRAIN_CONFIG')!.value!;
    const mount = container.volumeMounts!.find((m) => file.startsWith(`${m.mountPath}/`))!;
    const configMap = the('ConfigMap', workload.pod.volumes!.find((v) => v.name === mount.name)!.configMap!.name)[0]!;
    expect(parse(configMap.data![relative(mount.mountPath, file)]!)).toEqual(parse(readFileSync(join(REPO, 'docker/job.yaml'), 'utf8')));
    const { config } = await settingsOf('coordinator');
    const runs = container.volumeMounts!.find((m) => config!.out.startsWith(`${m.mountPath}/`))!;
    const claim = workload.pod.volumes!.find((v) => v.name === runs.name)!.persistentVolumeClaim!.claimName;
    expect(the('PersistentVolumeClaim', claim)).toHaveLength(1);
    expect(image.ownedDirs.some((dir) => runs.mountPath.startsWith(`${dir}/`) || runs.mountPath === dir)).toBe(true);
  });

  it('runs every pod as a non-root user that can write the volumes it mounts', () => {
    for (const { object, pod } of pods) {
      const mountsClaims = (pod.volumes ?? []).some((v) => v.persistentVolumeClaim) || object.spec!.volumeClaimTemplates !== undefined;
      expect({ pod: object.metadata.name, nonRoot: pod.securityContext?.runAsNonRoot, fsGroup: mountsClaims ? pod.securityContext?.fsGroup : 'none' }).toEqual({
        pod: object.metadata.name,
        nonRoot: true,
        fsGroup: mountsClaims ? pod.securityContext?.runAsUser : 'none',
      });
    }
  });

  it('takes the token from the Secret the kustomization generates from an uncommitted file', () => {
    const generators = kustomization.secretGenerator as { name: string; envs: string[] }[];
    expect(generators).toHaveLength(1);
    const refs = pods.flatMap((w) => w.pod.containers.map((c) => c.env?.find((v) => v.name === 'DPTRAIN_TOKEN')?.valueFrom?.secretKeyRef));
    expect(refs.map((r) => r?.name)).toEqual(refs.map(() => generators[0]!.name));
    for (const file of generators[0]!.envs) {
      const path = relative(REPO, join(DIR, file));
      expect(buildContext().ignores(path)).toBe(true);
      execFileSync('git', ['check-ignore', '-q', path], { cwd: REPO });
    }
  });
});
