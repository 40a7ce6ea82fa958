import { readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { parse } from 'yaml';

export interface Mount {
  /** A named volume, or a host path relative to the compose file's directory. */
  readonly source: string;
  readonly target: string;
  readonly named: boolean;
  readonly readOnly: boolean;
}

export interface Service {
  readonly name: string;
  readonly image: string | undefined;
  /** `args` in the list form: names whose values compose takes from its own environment. */
  readonly build: { readonly context?: string; readonly dockerfile?: string; readonly args?: readonly string[] } | undefined;
  readonly command: readonly string[];
  readonly environment: Readonly<Record<string, string>>;
  readonly envFiles: readonly string[];
  readonly volumes: readonly Mount[];
  /** Container ports published, with the host binding as written. */
  readonly ports: readonly { readonly published: string; readonly target: number }[];
  readonly healthcheck: readonly string[] | undefined;
  readonly restart: string | undefined;
  readonly profiles: readonly string[];
  readonly dependsOn: Readonly<Record<string, { readonly condition?: string }>>;
}

export interface ComposeProject {
  readonly services: readonly Service[];
  readonly volumes: readonly string[];
}

/**
 * Compose's variable interpolation: `${VAR}`, `${VAR:-default}` (unset or empty), `${VAR-default}`
 * (unset), `$VAR` and `$$` (a literal `$`).
 */
export function interpolate(text: string, vars: Readonly<Record<string, string | undefined>>): string {
  return text.replace(/\$(\$|\{(\w+)(?:(:?-)([^}]*))?\}|(\w+))/g, (_, whole: string, braced?: string, op?: string, fallback?: string, bare?: string) => {
    if (whole === '$') return '$';
    const value = vars[braced ?? bare!];
    if (op === ':-') return value === undefined || value === '' ? fallback! : value;
    if (op === '-') return value === undefined ? fallback! : value;
    return value ?? '';
  });
}

function interpolateAll(value: unknown, vars: Readonly<Record<string, string | undefined>>): unknown {
  if (typeof value === 'string') return interpolate(value, vars);
  if (Array.isArray(value)) return value.map((v) => interpolateAll(v, vars));
  if (value !== null && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, interpolateAll(v, vars)]));
  return value;
}

const list = (value: unknown): string[] => (value === undefined ? [] : Array.isArray(value) ? value.map(String) : [String(value)]);

function environmentOf(value: unknown): Record<string, string> {
  if (Array.isArray(value)) return Object.fromEntries(value.map((e: string) => [e.split('=')[0]!, e.slice(e.indexOf('=') + 1)]));
  return Object.fromEntries(Object.entries((value ?? {}) as Record<string, unknown>).map(([k, v]) => [k, v === null ? '' : String(v)]));
}

function mountOf(text: string): Mount {
  const [source = '', target = '', mode = ''] = text.split(':');
  return { source, target, named: !/^[./~]/.test(source), readOnly: mode.split(',').includes('ro') };
}

function portOf(text: string): { published: string; target: number } {
  const parts = text.split('/')[0]!.split(':');
  return { published: parts.slice(0, -1).join(':'), target: Number(parts.at(-1)) };
}

/**
 * The services of a compose file, YAML merge keys applied, variables interpolated from `vars`, and
 * only those the active `profiles` enable (services without profiles always are). Short syntax
 * only for volumes and ports, which is what this project's file uses.
 */
export function loadCompose(path: string, vars: Readonly<Record<string, string | undefined>>, profiles: readonly string[] = []): ComposeProject {
  const doc = interpolateAll(parse(readFileSync(path, 'utf8'), { merge: true }), vars) as {
    services: Record<string, Record<string, unknown>>;
    volumes?: Record<string, unknown>;
  };
  const services = Object.entries(doc.services).map(([name, s]): Service => {
    const healthcheck = s.healthcheck as { test?: string[] } | undefined;
    const dependsOn = s.depends_on;
    return {
      name,
      image: s.image as string | undefined,
      build: s.build as Service['build'],
      command: list(s.command),
      environment: environmentOf(s.environment),
      envFiles: list(s.env_file),
      volumes: list(s.volumes).map(mountOf),
      ports: list(s.ports).map(portOf),
      healthcheck: healthcheck?.test,
      restart: s.restart as string | undefined,
      profiles: list(s.profiles),
      dependsOn: Array.isArray(dependsOn) ? Object.fromEntries(dependsOn.map((d: string) => [d, {}])) : ((dependsOn ?? {}) as Service['dependsOn']),
    };
  });
  return {
    services: services.filter((s) => s.profiles.length === 0 || s.profiles.some((p) => profiles.includes(p))),
    volumes: Object.keys(doc.volumes ?? {}),
  };
}

/**
 * The service's environment as a process on this machine needs it: values that are container
 * paths under one of its bind mounts become the host paths mounted there.
 * @param projectDir the compose file's directory, which bind-mount sources are relative to
 */
export function hostEnvironment(service: Service, projectDir: string): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [name, value] of Object.entries(service.environment)) {
    const mount = service.volumes.find((m) => !m.named && (value === m.target || value.startsWith(`${m.target}/`)));
    env[name] = mount ? join(projectDir, mount.source, relative(mount.target, value)) : value;
  }
  return env;
}
