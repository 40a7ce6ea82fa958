import { z } from 'zod';

/**
 * Faults a process injects into itself for the chaos suite, read from `DPTRAIN_FAULT`: a comma
 * separated list of `key=value`. They exist so that scenarios which need a process to misbehave
 * in a precise way (slow, poisoned, stopped inside a write) can be run and tested; a production
 * job never sets the variable.
 *   slow=F                   worker: every micro-batch takes F times its compute time (F ≥ 1)
 *   nan-from-step=T          worker: gradients of steps ≥ T are NaN
 *   stall-checkpoint-step=T  parameter server: stops half-way through writing the checkpoint of step T
 *   only=NAME                the faults apply only in the process named NAME (--name), so one
 *                            variable can target one worker of a `dptrain local` cluster
 */
export interface FaultInjection {
  readonly slow?: number;
  readonly nanFromStep?: number;
  readonly stallCheckpointStep?: number;
}

const schema = z.strictObject({
  slow: z.coerce.number().min(1).finite().optional(),
  'nan-from-step': z.coerce.number().int().min(0).optional(),
  'stall-checkpoint-step': z.coerce.number().int().min(0).optional(),
  only: z.string().min(1).optional(),
});

/**
 * Parses a `DPTRAIN_FAULT` value for the process named `processName`.
 * @throws RangeError naming the bad entry and the keys that exist
 */
export function parseFaultInjection(text: string | undefined, processName?: string): FaultInjection {
  if (!text || text.trim() === '') return {};
  const entries: Record<string, string> = {};
  for (const part of text.split(',')) {
    const [key, value, ...rest] = part.split('=').map((s) => s.trim());
    if (!key || value === undefined || rest.length > 0)
      throw new RangeError(`DPTRAIN_FAULT entry '${part}' is not key=value; keys: ${Object.keys(schema.shape).join(', ')}`);
    entries[key] = value;
  }
  const parsed = schema.safeParse(entries);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new RangeError(
      `DPTRAIN_FAULT ${issue.path.join('.') || ''}: ${issue.message}; keys: ${Object.keys(schema.shape).join(', ')} (e.g. DPTRAIN_FAULT=slow=5)`,
    );
  }
  const p = parsed.data;
  if (p.only !== undefined && p.only !== processName) return {};
  return {
    ...(p.slow !== undefined ? { slow: p.slow } : {}),
    ...(p['nan-from-step'] !== undefined ? { nanFromStep: p['nan-from-step'] } : {}),
    ...(p['stall-checkpoint-step'] !== undefined ? { stallCheckpointStep: p['stall-checkpoint-step'] } : {}),
  };
}
