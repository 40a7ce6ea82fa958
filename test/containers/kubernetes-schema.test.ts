import { createRequire } from 'node:module';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO } from './build-context.js';
import { loadManifests, type K8sObject } from './k8s-model.js';

// docker/k8s against the Kubernetes API's own schemas: every object of the kustomization's
// resources validated by kubernetes-models, the API's OpenAPI definitions of a named Kubernetes
// release compiled to validators (types, required fields, formats).

const { objects, kustomization } = loadManifests(join(REPO, 'docker/k8s'));
// kubernetes-models 4.5.1 is generated from the OpenAPI spec of Kubernetes 1.33.0 (its
// scripts/generate.ts); 5.x needs Node 22. Upgrading the package means naming its release here.
const MODELS = '4.5.1';
const KUBERNETES = '1.33.0';
const { version } = createRequire(import.meta.url)('kubernetes-models/package.json') as { version: string };

interface Model {
  validate(): void;
}
type ModelClass = new (data: unknown) => Model;
// The API groups the manifests use; a manifest of another group fails below until it is added.
const GROUPS: Record<string, Record<string, unknown>> = {
  v1: await import('kubernetes-models/v1'),
  'apps/v1': await import('kubernetes-models/apps/v1'),
  'batch/v1': await import('kubernetes-models/batch/v1'),
};

/** The object's validation errors by the API schema of its apiVersion and kind ([] when valid). */
function schemaErrors(object: Omit<K8sObject, 'file'> & { apiVersion: string }): string[] {
  const Model = GROUPS[object.apiVersion]?.[object.kind] as ModelClass | undefined;
  if (!Model) return [`no schema loaded for ${object.apiVersion} ${object.kind}; add its group to GROUPS`];
  try {
    new Model(object).validate();
    return [];
  } catch (error) {
    return [(error as Error).message];
  }
}

describe(`docker/k8s against the Kubernetes ${KUBERNETES} API schemas`, () => {
  it(`uses kubernetes-models ${MODELS}, whose schemas are Kubernetes ${KUBERNETES}'s`, () => {
    expect(version).toBe(MODELS);
  });

  it('lists every manifest file as a resource of the kustomization', () => {
    expect([...new Set(objects.map((o) => o.file))].sort()).toEqual([...(kustomization.resources as string[])].sort());
  });

  it('validates every object', () => {
    const results = objects.map((o) => ({ object: `${o.file}: ${o.kind} ${o.metadata.name}`, errors: schemaErrors(o as K8sObject & { apiVersion: string }) }));
    expect(results.length).toBeGreaterThanOrEqual(7);
    expect(results.filter((r) => r.errors.length > 0)).toEqual([]);
  });

  it('refuses what the API server would refuse', () => {
    const workload = objects.find((o) => o.kind === 'Deployment')! as K8sObject & { apiVersion: string };
    const template = (workload.spec as { template: { spec: { containers: Record<string, unknown>[] } } }).template;
    const container = template.spec.containers[0]!;
    const broken = (change: Record<string, unknown>) => ({
      ...workload,
      spec: { ...workload.spec, template: { ...template, spec: { ...template.spec, containers: [{ ...container, ...change }] } } },
    });
    const errors = [
      schemaErrors(broken({ ports: [{ containerPort: '7000' }] })),
      schemaErrors(broken({ name: undefined })),
      schemaErrors({ ...workload, spec: { ...workload.spec, replicas: 'two' } }),
    ];
    expect(errors.map((e) => e.length > 0)).toEqual([true, true, true]);
  });
});
