import { startProc, type Proc } from './processes.js';
import type { Context } from './types.js';

/** A coordinator and shard 0 started by hand on loopback, workers added when the scenario says. */
export interface HandStarted {
  readonly coordinator: Proc;
  readonly ps: Proc;
  /** ws:// URLs of the coordinator and the shard. */
  readonly url: string;
  readonly psUrl: string;
  /** Every process started, workers included. */
  readonly procs: Proc[];
  /** Starts one `dptrain worker` per name, on the job's backend. */
  addWorkers(names: readonly string[], env?: NodeJS.ProcessEnv): Proc[];
  /** Whether every process started is still running. */
  alive(): boolean;
  /** SIGKILLs what still runs. */
  stop(): void;
}

/**
 * `dptrain coordinator` (out: `dir`) and `dptrain ps` for the chaos job, listening on free ports;
 * no worker yet, so the job waits at step 0 until the scenario adds some.
 * @param psArgs extra flags of the shard (e.g. --checkpoint-dir)
 */
export async function startCoordinatorAndShard(ctx: Context, dir: string, psArgs: readonly string[] = []): Promise<HandStarted> {
  const coordinator = startProc(['coordinator', ...ctx.job, '--workers', '2', '--out', dir, '--host', '127.0.0.1', '--port', '0'], ctx.env);
  const procs = [coordinator];
  const running = (p: Proc): boolean => p.child.exitCode === null && p.child.signalCode === null;
  const stop = (): void => {
    for (const p of procs) if (running(p)) p.child.kill('SIGKILL');
  };
  try {
    const url = `ws://127.0.0.1:${await coordinator.listening}/`;
    const ps = startProc(['ps', '--coordinator', url, '--shard', '0', '--host', '127.0.0.1', '--port', '0', '--name', 'ps-0', ...psArgs], ctx.env);
    procs.push(ps);
    const psUrl = `ws://127.0.0.1:${await ps.listening}/`;
    const backend = ctx.job[ctx.job.indexOf('--backend') + 1]!;
    return {
      coordinator,
      ps,
      url,
      psUrl,
      procs,
      addWorkers: (names, env = ctx.env) => {
        const workers = names.map((name) => startProc(['worker', '--coordinator', url, '--backend', backend, '--name', name], env));
        procs.push(...workers);
        return workers;
      },
      alive: () => procs.every(running),
      stop,
    };
  } catch (error) {
    stop();
    throw error;
  }
}
