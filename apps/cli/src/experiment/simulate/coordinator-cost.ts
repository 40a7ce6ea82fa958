import { readdirSync, readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { CoordinatorStepCost } from '@dptrain/simulator';
import type { BaseJob } from '../common/job-options.js';
import { runDptrain } from '../common/run-dptrain.js';
import { statFields } from './proc-stat.js';

/** /proc's clock ticks per second (USER_HZ: 100 on every Linux the project runs on). */
const TICKS_PER_SECOND = 100;

/** Steps of the measuring run; the middle of them (STEADY) is measured. */
const STEPS = 300;
const STEADY = [0.3, 0.85] as const;

/** The parent pid of `pid` (field 4 of /proc/PID/stat). */
function parentOf(pid: number): number | undefined {
  try {
    return Number(statFields(`/proc/${pid}/stat`)[1]);
  } catch {
    return undefined;
  }
}

/** The process below this one whose command line names the coordinator role, if it runs yet. */
function findCoordinator(): number | undefined {
  for (const entry of readdirSync('/proc')) {
    const pid = Number(entry);
    if (!Number.isInteger(pid)) continue;
    let argv: string[];
    try {
      argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
    } catch {
      continue;
    }
    if (!argv.includes('coordinator')) continue;
    for (let p: number | undefined = pid, hops = 0; p !== undefined && p > 1 && hops < 8; p = parentOf(p), hops++) if (p === process.pid) return pid;
  }
  return undefined;
}

/** CPU ticks (user + system) of `pid`'s main thread and of its other threads (V8's helpers, libuv's pool). */
function threadTicks(pid: number): { main: number; helpers: number } | undefined {
  try {
    let main = 0;
    let helpers = 0;
    for (const tid of readdirSync(`/proc/${pid}/task`)) {
      const fields = statFields(`/proc/${pid}/task/${tid}/stat`);
      const ticks = Number(fields[11]) + Number(fields[12]);
      if (Number(tid) === pid) main += ticks;
      else helpers += ticks;
    }
    return { main, helpers };
  } catch {
    return undefined;
  }
}

/**
 * The coordinator's CPU per closed step besides the messages the model already charges it
 * (`perMessageMs` for each of a step's `messagesPerStep`): closing the step, its metrics.jsonl
 * record, the progress display, its spans. Measured in a real `dptrain local` run of the job
 * (sync, one worker, one shard, STEPS steps, into `dir`): the coordinator's threads' CPU from
 * /proc, sampled every 50 ms, over the steps between 30% and 85% of the run (their times from
 * metrics.jsonl), so start-up and the final evaluation are left out. Undefined where /proc
 * cannot be read.
 */
export async function measureCoordinatorStep(job: BaseJob, dir: string, perMessageMs: number, messagesPerStep = 2): Promise<CoordinatorStepCost | undefined> {
  const samples: { at: number; main: number; helpers: number }[] = [];
  let pid: number | undefined;
  const timer = setInterval(() => {
    pid ??= findCoordinator();
    const ticks = pid === undefined ? undefined : threadTicks(pid);
    if (ticks) samples.push({ at: Date.now(), ...ticks });
  }, 50);
  try {
    await runDptrain({ command: 'local', args: job.args({ mode: 'sync', psShards: 1, workers: 1, steps: STEPS }), out: dir });
  } finally {
    clearInterval(timer);
  }
  const closed = (await readFile(join(dir, 'metrics.jsonl'), 'utf8'))
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as { kind: string; time: string })
    .filter((r) => r.kind === 'step')
    .map((r) => Date.parse(r.time));
  const [from, to] = STEADY.map((q) => closed[Math.floor(q * (closed.length - 1))]!);
  const near = (t: number) =>
    samples.reduce<(typeof samples)[number] | undefined>((a, s) => (a === undefined || Math.abs(s.at - t) < Math.abs(a.at - t) ? s : a), undefined);
  const [a, b] = [near(from), near(to)];
  if (!a || !b || b.at <= a.at) return undefined;
  const steps = closed.filter((t) => t > a.at && t <= b.at).length;
  if (steps === 0) return undefined;
  const perStep = (ticks: number) => (ticks * 1000) / TICKS_PER_SECOND / steps;
  return {
    mainMs: Math.max(0, perStep(b.main - a.main) - messagesPerStep * perMessageMs),
    helperMs: perStep(b.helpers - a.helpers),
    source: `a real dptrain local run (sync, 1 worker, 1 shard, ${STEPS} steps): the coordinator's CPU over ${steps} steady steps from /proc, less ${messagesPerStep} messages a step at the per-message cost`,
  };
}
