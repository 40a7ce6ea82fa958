import type { z } from 'zod';
import { ConfigError } from './config-error.js';
import { FLAGS, flagFor } from './flags.js';
import { defaultRunFolder, jobConfigSchema, type JobConfig } from './schema.js';

// Validation alone, with no file or environment access: every process of a job parses the job
// it is sent with this, a browser worker's page included.

/** Keys that were renamed, with why: a config file written for an older release is told what to write instead. */
const RENAMED: Readonly<Record<string, string>> = {
  noWorkerTimeoutMs: 'workerlessTimeoutMs (its flag --no-worker-timeout-ms read as the negation of --worker-timeout-ms)',
};

function describeIssue(issue: z.core.$ZodIssue, source: string, origins: ReadonlyMap<string, string>): string {
  const key = issue.path.join('.');
  if (issue.code === 'unrecognized_keys') {
    const renamed = issue.keys.filter((k) => k in RENAMED).map((k) => `"${k}" is now ${RENAMED[k]}`);
    if (renamed.length > 0) return `${source}: ${renamed.join('; ')}`;
    const known = FLAGS.map((f) => f.key).join(', ');
    return `${source}: unknown key${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((k) => `"${k}"`).join(', ')}; known keys: ${known}`;
  }
  const value = 'input' in issue && issue.input !== undefined ? ` = ${JSON.stringify(issue.input)}` : '';
  const top = String(issue.path[0]);
  return `${source}: ${key} (${origins.get(top) ?? flagFor(top)})${value}: ${issue.message}`;
}

/**
 * Validates a raw configuration object and fills in defaults.
 * @param origins where a key's value came from when that was not its flag or a file, e.g.
 *   `batchSize` → `env DPTRAIN_BATCH_SIZE`; errors name it instead of the flag.
 * @throws {ConfigError} E_CONFIG_VALUE listing every bad key with its flag (or variable), value and the rule it breaks.
 */
export function parseConfig(raw: unknown, source = 'config', origins: ReadonlyMap<string, string> = new Map()): JobConfig {
  const result = jobConfigSchema.safeParse(raw, { reportInput: true });
  if (result.success) return { ...result.data, out: result.data.out ?? defaultRunFolder(result.data.model) };
  throw new ConfigError('E_CONFIG_VALUE', result.error.issues.map((i) => describeIssue(i, source, origins)).join('\n'));
}
