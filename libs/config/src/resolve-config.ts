import { readFile } from 'node:fs/promises';
import { extname } from 'node:path';
import { parse as parseYaml } from 'yaml';
import type { z } from 'zod';
import { ConfigError } from './config-error.js';
import { FLAGS, flagFor } from './flags.js';
import { jobConfigSchema, type JobConfig } from './schema.js';

function describeIssue(issue: z.core.$ZodIssue, source: string): string {
  const key = issue.path.join('.');
  if (issue.code === 'unrecognized_keys') {
    const known = FLAGS.map((f) => f.key).join(', ');
    return `${source}: unknown key${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((k) => `"${k}"`).join(', ')}; known keys: ${known}`;
  }
  const value = 'input' in issue && issue.input !== undefined ? ` = ${JSON.stringify(issue.input)}` : '';
  return `${source}: ${key} (${flagFor(String(issue.path[0]))})${value}: ${issue.message}`;
}

/**
 * Validates a raw configuration object and fills in defaults.
 * @throws {ConfigError} E_CONFIG_VALUE listing every bad key with its flag, value and the rule it breaks.
 */
export function parseConfig(raw: unknown, source = 'config'): JobConfig {
  const result = jobConfigSchema.safeParse(raw, { reportInput: true });
  if (result.success) return result.data;
  throw new ConfigError('E_CONFIG_VALUE', result.error.issues.map((i) => describeIssue(i, source)).join('\n'));
}

/** Reads a YAML or JSON config file (by extension; YAML otherwise) into a plain object. */
export async function readConfigFile(path: string): Promise<Record<string, unknown>> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw new ConfigError('E_CONFIG_FILE', `cannot read config file ${path}: ${(error as Error).message}; check the --config path`, { cause: error });
  }
  let value: unknown;
  try {
    value = extname(path) === '.json' ? JSON.parse(text) : parseYaml(text);
  } catch (error) {
    throw new ConfigError('E_CONFIG_FILE', `config file ${path} is not valid ${extname(path) === '.json' ? 'JSON' : 'YAML'}: ${(error as Error).message}`, { cause: error });
  }
  if (value === null || value === undefined) return {};
  if (typeof value !== 'object' || Array.isArray(value)) {
    throw new ConfigError('E_CONFIG_FILE', `config file ${path} must hold a mapping of keys to values, not ${Array.isArray(value) ? 'a list' : typeof value}`);
  }
  return value as Record<string, unknown>;
}

function flagValue(key: string, text: string): unknown {
  const spec = FLAGS.find((f) => f.key === key)!;
  if (spec.kind === 'string') return text;
  const parts = spec.kind === 'number' ? [text] : text.split(',');
  const numbers = parts.map((p) => (p.trim() === '' ? Number.NaN : Number(p)));
  if (numbers.some((n) => Number.isNaN(n))) {
    throw new ConfigError('E_CONFIG_VALUE', `flag ${spec.flag} = "${text}": expected ${spec.kind === 'number' ? 'a number' : 'comma-separated numbers, e.g. 256,128'}`);
  }
  return spec.kind === 'number' ? numbers[0] : numbers;
}

/**
 * The configuration of a run: the file's values, then the flags over them, validated together.
 * @param flags config keys (camelCase) to flag text as given on the command line; undefined = not given.
 */
export async function resolveConfig(options: { file?: string; flags?: Record<string, string | undefined> }): Promise<JobConfig> {
  const merged: Record<string, unknown> = options.file ? await readConfigFile(options.file) : {};
  for (const [key, text] of Object.entries(options.flags ?? {})) {
    if (text !== undefined) merged[key] = flagValue(key, text);
  }
  return parseConfig(merged, options.file ? `config (${options.file} + flags)` : 'config');
}
