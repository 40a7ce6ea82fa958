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
  /** What the key sets, from the schema. */
  readonly description: string;
  /** The default, as a flag would give it; undefined when unset means "the model's or optimizer's own". */
  readonly defaultText: string | undefined;
  /** Only cluster runs (local, coordinator) use the key; train accepts it and ignores it. */
  readonly cluster: boolean;
}

function kebab(key: string): string {
  return `--${key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;
}

function unwrap(schema: unknown): { type: string; defaultValue?: unknown } {
  let def = (schema as { def: { type: string; innerType?: unknown; defaultValue?: unknown } }).def;
  let defaultValue: unknown;
  while (def.type === 'default' || def.type === 'optional') {
    if (def.type === 'default') defaultValue = def.defaultValue;
    def = (def.innerType as { def: typeof def }).def;
  }
  return { type: def.type, defaultValue };
}

/** One flag and one environment variable per config key, derived from the schema so they cannot drift apart. */
export const FLAGS: readonly FlagSpec[] = Object.entries(jobConfigSchema.def.shape ?? {}).map(([key, schema]) => {
  const { type, defaultValue } = unwrap(schema);
  const env = envNameOf(key);
  const description = (schema as { description?: string }).description ?? key;
  return {
    key,
    flag: kebab(key),
    kind: type === 'number' ? 'number' : type === 'array' ? 'integer-list' : 'string',
    env: env in RESERVED_ENV ? undefined : env,
    description,
    defaultText: defaultValue === undefined ? undefined : Array.isArray(defaultValue) ? defaultValue.join(',') : String(defaultValue),
    cluster: description.startsWith('Cluster'),
  };
});

export function flagFor(key: string): string {
  return FLAGS.find((f) => f.key === key)?.flag ?? kebab(key);
}
