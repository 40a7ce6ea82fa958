import { envNameOf, RESERVED_ENV } from './env.js';
import { jobConfigSchema } from './schema.js';

export interface FlagSpec {
  /** Config key, camelCase. */
  readonly key: string;
  /** Command-line flag, kebab-case with leading dashes. */
  readonly flag: string;
  /** How a flag's (or variable's) text becomes a config value. */
  readonly kind: 'string' | 'number' | 'integer-list';
  /** Environment variable read for the key (`DPTRAIN_<KEY>`); undefined when that name is reserved (see RESERVED_ENV). */
  readonly env: string | undefined;
}

function kebab(key: string): string {
  return `--${key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;
}

function unwrap(schema: unknown): { type: string; element?: { type: string } } {
  let def = (schema as { def: { type: string; innerType?: unknown; element?: unknown } }).def;
  while (def.type === 'default' || def.type === 'optional') {
    def = (def.innerType as { def: typeof def }).def;
  }
  const element = def.element ? (def.element as { def: { type: string } }).def : undefined;
  return element ? { type: def.type, element } : { type: def.type };
}

/** One flag and one environment variable per config key, derived from the schema so they cannot drift apart. */
export const FLAGS: readonly FlagSpec[] = Object.entries(jobConfigSchema.def.shape ?? {}).map(([key, schema]) => {
  const { type } = unwrap(schema);
  const env = envNameOf(key);
  return { key, flag: kebab(key), kind: type === 'number' ? 'number' : type === 'array' ? 'integer-list' : 'string', env: env in RESERVED_ENV ? undefined : env };
});

export function flagFor(key: string): string {
  return FLAGS.find((f) => f.key === key)?.flag ?? kebab(key);
}
