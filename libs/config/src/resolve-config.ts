import { readFile } from 'node:fs/promises';
import { extname } from 'node:path';
import { ConfigError } from './config-error.js';
import { FLAGS, type FlagSpec } from './flags.js';
import { parseConfig } from './parse-config.js';
import { type JobConfig } from './schema.js';

/**
 * Reads a YAML or JSON config file (by extension; YAML otherwise) into a plain object.
 * @param origin how the path was given, for the error message. @default '--config'
 */
export async function readConfigFile(path: string, origin = '--config'): Promise<Record<string, unknown>> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw new ConfigError('E_CONFIG_FILE', `cannot read config file ${path}: ${(error as Error).message}; check the ${origin} path`, { cause: error });
  }
  let value: unknown;
  // yaml is loaded only when a YAML file is read: the commands' start-up does without it.
  const parseYaml = extname(path) === '.json' ? undefined : (await import('yaml')).parse;
  try {
    value = parseYaml ? parseYaml(text) : JSON.parse(text);
  } catch (error) {
    throw new ConfigError('E_CONFIG_FILE', `config file ${path} is not valid ${extname(path) === '.json' ? 'JSON' : 'YAML'}: ${(error as Error).message}`, {
      cause: error,
    });
  }
  if (value === null || value === undefined) return {};
  if (typeof value !== 'object' || Array.isArray(value)) {
    throw new ConfigError('E_CONFIG_FILE', `config file ${path} must hold a mapping of keys to values, not ${Array.isArray(value) ? 'a list' : typeof value}`);
  }
  return value as Record<string, unknown>;
}

/** How a flag's or variable's text becomes the key's value; `given` names where it came from. */
function textValue(spec: FlagSpec, text: string, given: string): unknown {
  if (spec.kind === 'string') return text;
  const parts = spec.kind === 'number' ? [text] : text.split(',');
  const numbers = parts.map((p) => (p.trim() === '' ? Number.NaN : Number(p)));
  if (numbers.some((n) => Number.isNaN(n))) {
    throw new ConfigError('E_CONFIG_VALUE', `${given} = "${text}": expected ${spec.kind === 'number' ? 'a number' : 'comma-separated numbers, e.g. 256,128'}`);
  }
  return spec.kind === 'number' ? numbers[0] : numbers;
}

export interface ResolveConfigOptions {
  /** YAML or JSON config file. @default env.DPTRAIN_CONFIG when set and not empty */
  readonly file?: string | undefined;
  /** Config keys (camelCase) to flag text as given on the command line; undefined = not given. */
  readonly flags?: Readonly<Record<string, string | undefined>>;
  /**
   * Environment read for `DPTRAIN_<KEY>` (each key's `FLAGS[].env`) and `DPTRAIN_CONFIG`. An empty
   * value counts as unset, so a compose file can pass `${VAR:-}` through. Other variables, with the
   * prefix or not, are ignored.
   * @default {} (callers pass `process.env`, so a library call never reads the ambient environment by accident)
   */
  readonly env?: Readonly<Record<string, string | undefined>>;
}

/**
 * The configuration of a run, each key taken from the first place that sets it: flags, then the
 * environment (`DPTRAIN_BATCH_SIZE`), then the config file, then the schema's defaults; validated
 * together, so an error names the flag or the variable that gave the bad value.
 * @throws {ConfigError} E_CONFIG_FILE for an unreadable or malformed file, E_CONFIG_VALUE for bad values.
 */
export async function resolveConfig(options: ResolveConfigOptions = {}): Promise<JobConfig> {
  const env = options.env ?? {};
  const envFile = env.DPTRAIN_CONFIG === '' ? undefined : env.DPTRAIN_CONFIG;
  const file = options.file ?? envFile;
  const merged: Record<string, unknown> = file ? await readConfigFile(file, options.file === undefined ? 'DPTRAIN_CONFIG' : '--config') : {};
  const origins = new Map<string, string>();
  for (const spec of FLAGS) {
    const text = spec.env === undefined ? undefined : env[spec.env];
    // A flag given for the key wins, so a bad variable it overrides is no error.
    if (text === undefined || text === '' || options.flags?.[spec.key] !== undefined) continue;
    merged[spec.key] = textValue(spec, text, `env ${spec.env}`);
    origins.set(spec.key, `env ${spec.env}`);
  }
  for (const [key, text] of Object.entries(options.flags ?? {})) {
    if (text === undefined) continue;
    const spec = FLAGS.find((f) => f.key === key);
    // An unknown key passes through for the schema to refuse by name, with the list of known ones.
    merged[key] = spec ? textValue(spec, text, `flag ${spec.flag}`) : text;
    origins.delete(key);
  }
  const sources = [...(file ? [file] : []), ...(origins.size > 0 ? ['env'] : []), 'flags'];
  return parseConfig(merged, sources.length > 1 ? `config (${sources.join(' + ')})` : 'config', origins);
}
