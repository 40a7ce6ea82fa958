import type { EventHandle, EventQueue } from './event-queue.js';

interface Job {
  remaining: number;
  readonly done: () => void;
}

/**
 * One machine's cores, shared by the processes on it by processor sharing: while n processes have
 * work, each runs at min(1, cores / (n + background)) of a core's speed, `background` standing for
 * other load on the machine. A process is single-threaded (a Node event loop), so it never runs
 * faster than one core.
 */
export class Host {
  private readonly running = new Set<Job>();
  private lastUpdate = 0;
  private next: EventHandle | undefined;

  constructor(
    private readonly queue: EventQueue,
    readonly cores: number,
    readonly background = 0,
  ) {
    if (!(cores > 0)) throw new RangeError(`host cores ${cores} must be positive`);
    if (!(background >= 0)) throw new RangeError(`host background load ${background} must be non-negative`);
  }

  /** Speed of each running process, in core-milliseconds per millisecond. */
  rate(): number {
    return Math.min(1, this.cores / (this.running.size + this.background));
  }

  /** Runs `workMs` core-milliseconds of one process's work; `done` fires when it is finished. */
  start(workMs: number, done: () => void): void {
    this.advance();
    this.running.add({ remaining: Math.max(0, workMs), done });
    this.reschedule();
  }

  private advance(): void {
    const elapsed = this.queue.now - this.lastUpdate;
    if (elapsed > 0) {
      const progress = elapsed * this.rate();
      for (const job of this.running) job.remaining -= progress;
    }
    this.lastUpdate = this.queue.now;
  }

  private reschedule(): void {
    this.next?.cancel();
    this.next = undefined;
    if (this.running.size === 0) return;
    let least = Infinity;
    for (const job of this.running) least = Math.min(least, job.remaining);
    this.next = this.queue.after(Math.max(0, least) / this.rate(), () => this.complete());
  }

  private complete(): void {
    this.advance();
    // Float rounding leaves a few femtoseconds on jobs that finish together.
    const finished = [...this.running].filter((job) => job.remaining <= 1e-9);
    for (const job of finished) this.running.delete(job);
    this.reschedule();
    for (const job of finished) job.done();
  }
}

/**
 * A single-threaded process on a host: its work runs one piece at a time, in order, with replies
 * it owes (urgent work) ahead of new requests, as a Node process finishes reacting to one message
 * before it reads the next.
 */
export class Process {
  private readonly urgent: { workMs: number; then: () => void }[] = [];
  private readonly normal: { workMs: number; then: () => void }[] = [];
  private busy = false;
  /** Core-milliseconds of work done, for utilisation. */
  workDone = 0;

  constructor(
    readonly name: string,
    private readonly host: Host,
  ) {}

  /** Queues `workMs` of work; `then` runs when it is done. */
  run(workMs: number, then: () => void, urgent = false): void {
    (urgent ? this.urgent : this.normal).push({ workMs, then });
    if (!this.busy) this.startNext();
  }

  /**
   * Starts `workMs` of work on the host beside this process's queue, as the process's helper
   * threads (garbage collector, compiler) do: it takes its share of the cores and never waits for
   * or holds up the process's own work.
   */
  helpers(workMs: number): void {
    if (workMs > 0) this.host.start(workMs, () => (this.workDone += workMs));
  }

  /** The same as run(), as a promise. */
  work(workMs: number, urgent = false): Promise<void> {
    return new Promise((resolve) => this.run(workMs, resolve, urgent));
  }

  get idle(): boolean {
    return !this.busy;
  }

  private startNext(): void {
    const job = this.urgent.shift() ?? this.normal.shift();
    if (!job) {
      this.busy = false;
      return;
    }
    this.busy = true;
    this.host.start(job.workMs, () => {
      this.workDone += job.workMs;
      job.then();
      this.startNext();
    });
  }
}
