import type { EventQueue } from './event-queue.js';

interface Job {
  remaining: number;
  readonly done: () => void;
  /** The one core it may run on (a pinned process's threads), or any. */
  readonly core: number | undefined;
  /** The thread whose work it is, when one thread does several pieces of work in a row (a process's queue). */
  readonly thread: object | undefined;
}

interface Core {
  job: Job | undefined;
  /** When the job got the core, and when its slice (or its work) ends. */
  since: number;
  until: number;
  /** When the thread on the core began its slice: its earlier pieces of work run without a break count toward it. */
  sliceStart: number;
  /** The thread that ran last on the core and when it stopped, to tell a thread carrying on from one that slept. */
  lastThread: object | undefined;
  lastEnded: number;
}

/**
 * Linux's EEVDF base slice on a machine of `cores` CPUs: 0.75 ms × (1 + log2 cores), the
 * kernel's default (sysctl_sched_base_slice scaled as for `sched_tunable_scaling` = log).
 */
export function defaultSliceMs(cores: number): number {
  return 0.75 * (1 + Math.floor(Math.log2(Math.max(1, cores))));
}

/**
 * One machine's cores, shared by time slices as the Linux scheduler shares them: each core runs
 * one thread at a time; a thread that has run a whole slice while others wait goes to the back
 * of the run queue; a thread that wakes up (new work after it slept: a message arrived, a
 * helper thread's burst) waits at the front for the next free core or the next slice end. So a
 * short burst of a parameter server takes a whole core from one worker for its length, which
 * processor sharing would spread over all of them; with a barrier after every step the delayed
 * worker sets the pace. `background` stands for other load on the machine, in busy processes:
 * ⌊background⌋ threads that always want a core, and one that wants it the fractional rest of
 * the time.
 *
 * A thread given a core (start's `core`: a process pinned with `dptrain local --pin-cpus`, whose
 * threads all inherit its affinity) runs on that core only and waits for it, so each core has in
 * effect a run queue of its own for its pinned threads; unpinned threads take any free core.
 */
export class Host {
  private readonly slots: Core[];
  /** Threads that woke while every core was busy, in order; they go before the preempted ones. */
  private readonly woken: Job[] = [];
  /** Threads preempted at the end of a slice, in order. */
  private readonly preempted: Job[] = [];
  /** Each core's work finished so far (slices ended), in milliseconds: the cluster's and the background's. */
  private readonly busy: number[];
  readonly sliceMs: number;

  constructor(
    private readonly queue: EventQueue,
    readonly cores: number,
    readonly background = 0,
    sliceMs?: number,
  ) {
    if (!(cores >= 1) || !Number.isInteger(cores)) throw new RangeError(`host cores ${cores} must be a positive integer`);
    if (!(background >= 0)) throw new RangeError(`host background load ${background} must be non-negative`);
    this.sliceMs = sliceMs ?? defaultSliceMs(cores);
    if (!(this.sliceMs > 0)) throw new RangeError(`host time slice ${this.sliceMs} ms must be positive`);
    this.slots = Array.from({ length: cores }, () => ({ job: undefined, since: 0, until: 0, sliceStart: 0, lastThread: undefined, lastEnded: -1 }));
    this.busy = new Array<number>(cores).fill(0);
    for (let i = 0; i < Math.floor(background); i++) this.start(Infinity, () => undefined);
    const rest = background - Math.floor(background);
    if (rest > 1e-9) this.duty(rest);
  }

  /**
   * Runs `workMs` core-milliseconds of one thread's work, on core `core` only when given; `done`
   * fires when it is finished. Work of `thread` started the moment its previous piece finished on
   * that core is the thread carrying on: it keeps the core, within the slice it began.
   */
  start(workMs: number, done: () => void, core?: number, thread?: object): void {
    if (core !== undefined && !(Number.isInteger(core) && core >= 0 && core < this.cores))
      throw new RangeError(`core ${core} is not one of this host's ${this.cores} cores (0–${this.cores - 1})`);
    const job: Job = { remaining: Math.max(0, workMs), done, core, thread };
    const carrying =
      thread && this.slots.find((slot, index) => !slot.job && slot.lastThread === thread && slot.lastEnded === this.queue.now && allowed(job, index));
    if (carrying) {
      if (this.queue.now - carrying.sliceStart < this.sliceMs - 1e-9) {
        this.run(carrying, job, carrying.sliceStart);
        return;
      }
      // Its slice is spent: it goes behind the threads waiting for this core, if any, else starts a new one.
      const next = this.next(this.slots.indexOf(carrying));
      if (next) this.preempted.push(job);
      this.run(carrying, next ?? job);
      return;
    }
    const free = this.slots.find((slot, index) => !slot.job && allowed(job, index));
    if (free) this.run(free, job);
    else this.woken.push(job);
  }

  /** Milliseconds each core has been busy up to now, as /proc/stat counts a CPU's time not idle (the background's included). */
  busyMs(): number[] {
    return this.slots.map((core, i) => this.busy[i]! + (core.job ? this.queue.now - core.since : 0));
  }

  /** A background thread busy `fraction` of the time: a slice of work, then a sleep, and again. */
  private duty(fraction: number): void {
    this.start(this.sliceMs, () => this.queue.after((this.sliceMs * (1 - fraction)) / fraction, () => this.duty(fraction)));
  }

  /** Gives `job` the core for the rest of a slice begun at `sliceStart` (now: a new slice), or until its work is done. */
  private run(core: Core, job: Job, sliceStart = this.queue.now): void {
    core.job = job;
    core.since = this.queue.now;
    core.sliceStart = sliceStart;
    core.until = this.queue.now + Math.min(sliceStart + this.sliceMs - this.queue.now, job.remaining);
    this.queue.at(core.until, () => this.sliceEnds(core));
  }

  private sliceEnds(core: Core): void {
    const job = core.job!;
    job.remaining -= core.until - core.since;
    this.busy[this.slots.indexOf(core)] += core.until - core.since;
    core.job = undefined;
    if (job.remaining > 1e-9) {
      // Preempted only when another thread waits for this core; otherwise it runs on.
      const next = this.next(this.slots.indexOf(core));
      if (next) {
        this.preempted.push(job);
        this.run(core, next);
      } else {
        this.run(core, job);
      }
      return;
    }
    // The finished thread's next piece of work (its process carrying on) starts on this core
    // before the waiting threads, as a thread that has not slept keeps running, for the rest of its slice.
    core.lastThread = job.thread;
    core.lastEnded = this.queue.now;
    job.done();
    const next = core.job ? undefined : this.next(this.slots.indexOf(core));
    if (next) this.run(core, next);
  }

  /** The first thread waiting that may run on core `index`: woken ones before preempted ones. */
  private next(index: number): Job | undefined {
    return take(this.woken, index) ?? take(this.preempted, index);
  }
}

function allowed(job: Job, index: number): boolean {
  return job.core === undefined || job.core === index;
}

function take(waiting: Job[], index: number): Job | undefined {
  const at = waiting.findIndex((job) => allowed(job, index));
  return at < 0 ? undefined : waiting.splice(at, 1)[0];
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
    /** The machine whose cores it runs on. */
    readonly host: Host,
    /** The one core of the host its threads run on (pinned), or any. */
    readonly core?: number,
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
    if (workMs > 0) this.host.start(workMs, () => (this.workDone += workMs), this.core);
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
    this.host.start(
      job.workMs,
      () => {
        this.workDone += job.workMs;
        job.then();
        this.startNext();
      },
      this.core,
      this,
    );
  }
}
