import { readFileSync } from 'node:fs';

function read(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
}

/** Every process below `pid` (children, their children, …), from /proc. */
function descendants(pid: number): number[] {
  const out: number[] = [];
  const walk = (p: number): void => {
    for (const child of (read(`/proc/${p}/task/${p}/children`) ?? '').trim().split(/\s+/).filter(Boolean).map(Number)) {
      out.push(child);
      walk(child);
    }
  };
  walk(pid);
  return out;
}

function running(pid: number): boolean {
  const stat = read(`/proc/${pid}/stat`);
  // The state follows the command name in parentheses, which may itself hold spaces.
  return stat !== undefined && stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) === 'R';
}

/** About `cpuMs` of CPU work; returns its CPU and wall milliseconds. */
function probe(cpuMs: number): { cpu: number; wall: number } {
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  let x = 0;
  for (;;) {
    for (let i = 0; i < 20_000; i++) x += Math.sqrt(i + x);
    const d = process.cpuUsage(c0);
    if ((d.user + d.system) / 1000 >= cpuMs) {
      return { cpu: (d.user + d.system) / 1000, wall: performance.now() - t0 };
    }
  }
}

/**
 * Measures the other load on this machine while a real run goes on, in the simulation's terms:
 * every `everyMs`, a probe of 2 ms of CPU work measures the share of a core it gets, and /proc
 * how many of the run's own processes are runnable just before and just after it. Over the run,
 * r = Σ probe CPU / Σ probe wall and n = the mean runnable count; under processor sharing
 * r = cores / (n + 1 + B), so B = cores / r − n − 1 other busy processes (0 when that is
 * negative: nothing but our own work slowed the probe). Ratios of sums, not means of ratios, so a
 * probe that waited one long time slice does not outweigh the rest. Costs about 1% of a core.
 */
export class BackgroundSampler {
  private cpu = 0;
  private wall = 0;
  private runnable = 0;
  private samples = 0;
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly cores: number,
    everyMs = 200,
  ) {
    this.timer = setInterval(() => this.sample(), everyMs);
    this.timer.unref();
  }

  private ours(): number {
    return descendants(process.pid).filter(running).length;
  }

  private sample(): void {
    const before = this.ours();
    const { cpu, wall } = probe(2);
    this.runnable += (before + this.ours()) / 2;
    this.cpu += cpu;
    this.wall += wall;
    this.samples++;
  }

  /** Stops sampling; the other busy processes, or undefined without samples. */
  stop(): number | undefined {
    clearInterval(this.timer);
    if (this.samples === 0) return undefined;
    const share = Math.min(1, this.cpu / this.wall);
    return Math.max(0, this.cores / share - this.runnable / this.samples - 1);
  }
}
