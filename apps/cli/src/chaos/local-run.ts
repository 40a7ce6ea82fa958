import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { startProc, waitFor, type Proc } from './processes.js';
import type { Context } from './types.js';

export interface LocalRun {
  readonly proc: Proc;
  /** cluster.json once written. */
  cluster(): Promise<{ coordinator: string; processes: { role: string; name: string; pid: number; ports: number[] }[] }>;
}

/**
 * `dptrain local --workers 2` on the chaos job in the context's layout, with `extra` flags and
 * `env` added (DPTRAIN_FAULT for self-injected faults).
 */
export function startLocal(ctx: Context, dir: string, extra: readonly string[] = [], env: NodeJS.ProcessEnv = {}): LocalRun {
  const layout = ctx.layout === 'colocated' ? ['--colocate'] : [];
  const proc = startProc(['local', ...ctx.job, '--workers', '2', ...layout, ...extra, '--out', dir], { ...ctx.env, ...env });
  return {
    proc,
    cluster: async () => {
      let parsed: Awaited<ReturnType<LocalRun['cluster']>> | undefined;
      // Read until whole: the file may be caught half-written.
      await waitFor('cluster.json', async () => {
        parsed = await readFile(join(dir, 'cluster.json'), 'utf8')
          .then((t) => JSON.parse(t))
          .catch(() => undefined);
        return parsed !== undefined;
      });
      return parsed!;
    },
  };
}

export async function pidOf(run: LocalRun, name: string): Promise<number> {
  const entry = (await run.cluster()).processes.find((p) => p.name === name);
  if (!entry) throw new Error(`cluster.json lists no process named ${name}`);
  return entry.pid;
}
