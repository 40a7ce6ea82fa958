import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse, parseAllDocuments } from 'yaml';

/** A Kubernetes object as parsed; the tests read the few fields they check. */
export interface K8sObject {
  readonly kind: string;
  readonly metadata: { readonly name: string; readonly labels?: Record<string, string> };
  readonly spec?: Record<string, unknown>;
  readonly data?: Record<string, string>;
  readonly file: string;
}

export interface EnvVar {
  readonly name: string;
  readonly value?: string;
  readonly valueFrom?: {
    readonly secretKeyRef?: { readonly name: string; readonly key: string };
    readonly fieldRef?: { readonly fieldPath: string };
  };
}

export interface Container {
  readonly name: string;
  readonly image: string;
  readonly args?: readonly string[];
  readonly command?: readonly string[];
  readonly env?: readonly EnvVar[];
  readonly ports?: readonly { readonly name?: string; readonly containerPort: number }[];
  readonly volumeMounts?: readonly { readonly name: string; readonly mountPath: string; readonly readOnly?: boolean }[];
  readonly readinessProbe?: Record<string, { port?: string | number; path?: string }>;
  readonly startupProbe?: Record<string, { port?: string | number; path?: string }>;
  readonly livenessProbe?: unknown;
}

export interface PodSpec {
  readonly containers: readonly Container[];
  readonly restartPolicy?: string;
  readonly securityContext?: { readonly runAsNonRoot?: boolean; readonly runAsUser?: number; readonly fsGroup?: number };
  readonly volumes?: readonly { readonly name: string; readonly configMap?: { name: string }; readonly persistentVolumeClaim?: { claimName: string } }[];
}

export interface Workload {
  readonly object: K8sObject;
  readonly pod: PodSpec;
  readonly podLabels: Readonly<Record<string, string>>;
}

/** Every document of every manifest in `dir` (the kustomization aside) and the kustomization itself. */
export function loadManifests(dir: string): {
  readonly objects: readonly K8sObject[];
  readonly kustomization: Record<string, unknown>;
  readonly files: readonly string[];
} {
  const files = readdirSync(dir).filter((f) => /\.ya?ml$/.test(f) && f !== 'kustomization.yaml');
  const objects = files.flatMap((file) =>
    parseAllDocuments(readFileSync(join(dir, file), 'utf8')).map((doc) => {
      if (doc.errors.length > 0) throw new Error(`${file}: ${doc.errors[0]!.message}`);
      return { ...(doc.toJS() as Omit<K8sObject, 'file'>), file };
    }),
  );
  return { objects, kustomization: parse(readFileSync(join(dir, 'kustomization.yaml'), 'utf8')) as Record<string, unknown>, files };
}

/** The Jobs, Deployments and StatefulSets with their pod templates. */
export function workloads(objects: readonly K8sObject[]): Workload[] {
  return objects
    .filter((o) => ['Job', 'Deployment', 'StatefulSet'].includes(o.kind))
    .map((object) => {
      const template = object.spec!.template as { metadata: { labels: Record<string, string> }; spec: PodSpec };
      return { object, pod: template.spec, podLabels: template.metadata.labels };
    });
}

/** A port of a container by number or by name. */
export function portNumber(container: Container, port: string | number | undefined): number | undefined {
  return typeof port === 'number' ? port : container.ports?.find((p) => p.name === port)?.containerPort;
}
