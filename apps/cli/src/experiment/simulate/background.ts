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

/** About `cpuMs` of CPU work; returns the fraction of a core it got (CPU time over wall time). */
function probe(cpuMs: number): number {
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  let x = 0;
  for (;;) {
    for (let i = 0; i < 20_000; i++) x += Math.sqrt(i + x);
    const d = process.cpuUsage(c0);
    if ((d.user + d.system) / 1000 >= cpuMs) {
      const wall = performance.now() - t0;
      return Math.min(1, (d.user + d.system) / 1000 / wall);
    }
  }
}

/**
 * Measures the other load on this machine while a real run goes on, in the simulation's terms:
 * every `everyMs`, a probe of 2 ms of CPU work measures the share of a core a process that just
 * woke gets (r), and /proc the run's own processes that are runnable (n); under processor sharing
 * r = cores / (n + 1 + B), so B = cores / r − n − 1 other busy processes (0 when the probe ran at
 * full speed: then nothing slowed it). The mean over the run is the validation's `background`.
 * Costs this process about 1% of a core. Undefined without samples.
 */
export class BackgroundSampler {
  private readonly samples: number[] = [];
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly cores: number,
    everyMs = 200,
  ) {
    this.timer = setInterval(() => this.sample(), everyMs);
    this.timer.unref();
  }

  private sample(): void {
    const ours = descendants(process.pid).filter(running).length;
    const share = probe(2);
    this.samples.push(share >= 0.98 ? 0 : Math.max(0, this.cores / share - ours - 1));
  }

  /** Stops sampling; the mean number of other busy processes, or undefined without samples. */
  stop(): number | undefined {
    clearInterval(this.timer);
    if (this.samples.length === 0) return undefined;
    return this.samples.reduce((a, b) => a + b, 0) / this.samples.length;
  }
}
