/**
 * Taking turns: the children of one comparison start together, do their set-up in parallel
 * (untimed), then compute only when given the turn, one at a time, round after round. Interleaved
 * rounds spread the load of other processes on a shared machine evenly over the implementations
 * compared, where running each to completion would hand one of them the quiet minute and another
 * the busy one; no two measurements ever overlap.
 *
 * Protocol (line-based): the child prints {@link WAITING_MARKER} on stdout whenever it is ready
 * for its next turn, and starts computing when it reads the line `go` on stdin. A turn ends when
 * the child prints the marker again, prints its result line, or exits. After the last turn the
 * parent closes the child's stdin.
 */
import { ChildHandle, RESULT_MARKER, type ChildCommand, type ChildOutcome } from './child.js';

export const WAITING_MARKER = '@@bench-waiting';
const GO = 'go';

/** Inside a child: waits for turns on stdin. Disabled, every wait returns at once (a child run by hand). */
export class TurnTaker {
  private readonly queued: string[] = [];
  private wake: (() => void) | undefined;
  private ended = false;

  constructor(readonly enabled: boolean) {
    if (!enabled) return;
    let pending = '';
    process.stdin.setEncoding('utf8');
    process.stdin.on('data', (chunk: string) => {
      pending += chunk;
      const lines = pending.split('\n');
      pending = lines.pop()!;
      this.queued.push(...lines.filter((l) => l.trim() !== ''));
      this.wake?.();
    });
    process.stdin.on('end', () => {
      this.ended = true;
      this.wake?.();
    });
  }

  /**
   * Announces that this child is ready and resolves when the parent gives it the turn.
   * @throws {Error} when the parent closed stdin instead (it gave out every turn it planned).
   */
  async next(): Promise<void> {
    if (!this.enabled) return;
    process.stdout.write(`\n${WAITING_MARKER}\n`);
    while (this.queued.length === 0) {
      if (this.ended) throw new Error('the parent ended the turns before this child finished; it asked for more turns than the parent planned');
      await new Promise<void>((resolve) => (this.wake = resolve));
    }
    const line = this.queued.shift();
    if (line !== GO) throw new Error(`unexpected turn line ${JSON.stringify(line)} from the parent; expected "${GO}"`);
  }
}

/** Where a child stands between turns. */
type Stop = 'waiting' | 'done';

class TurnChild {
  private readonly stops: Stop[] = [];
  private wake: (() => void) | undefined;
  done = false;

  constructor(readonly handle: ChildHandle) {
    handle.onLine((line) => {
      if (line === WAITING_MARKER) this.push('waiting');
      else if (line.startsWith(RESULT_MARKER)) this.push('done');
    });
    void handle.exited.then(() => this.push('done'));
  }

  private push(stop: Stop): void {
    this.stops.push(stop);
    this.wake?.();
  }

  /** The next stop, or 'done' after killing the child when it takes longer than `timeoutMs`. */
  async nextStop(timeoutMs: number, what: string): Promise<Stop> {
    const timer = setTimeout(() => this.handle.kill(`${what} took longer than ${timeoutMs / 1000} s`), timeoutMs);
    while (this.stops.length === 0) await new Promise<void>((resolve) => (this.wake = resolve));
    clearTimeout(timer);
    const stop = this.stops.shift()!;
    if (stop === 'done') this.done = true;
    return stop;
  }
}

export interface RunInTurnsOptions {
  /** Turns each child is given (a child that finishes earlier is skipped). */
  readonly turns: number;
  /** Longest single turn before the child is killed. @default 180_000 */
  readonly turnTimeoutMs?: number;
  /** Longest start-up (until the child first waits for a turn). @default 180_000 */
  readonly setupTimeoutMs?: number;
  /** Called before each turn is given. */
  readonly onTurn?: (child: number, turn: number) => void;
}

/**
 * Starts every command, waits until each is ready (or has ended), then gives turns round-robin:
 * turn 0 to every child in order, then turn 1, and so on. Returns each child's outcome, in the
 * order of `commands`; a child that fails or hangs yields `ok: false` and the others go on.
 */
export async function runInTurns<T>(commands: readonly ChildCommand[], options: RunInTurnsOptions): Promise<ChildOutcome<T>[]> {
  const timeoutMs = options.turnTimeoutMs ?? 180_000;
  const children = commands.map((c) => new TurnChild(new ChildHandle(c)));
  await Promise.all(children.map((c) => c.nextStop(options.setupTimeoutMs ?? 180_000, 'set-up')));
  for (let turn = 0; turn < options.turns; turn++) {
    for (const [i, child] of children.entries()) {
      if (child.done) continue;
      options.onTurn?.(i, turn);
      child.handle.send(GO);
      await child.nextStop(timeoutMs, `turn ${turn}`);
    }
  }
  for (const child of children) child.handle.endInput();
  await Promise.all(
    children.map(async (child) => {
      const timer = setTimeout(() => child.handle.kill(`did not exit within ${timeoutMs / 1000} s of its last turn`), timeoutMs);
      await child.handle.exited;
      clearTimeout(timer);
    }),
  );
  return children.map((c) => c.handle.outcome<T>());
}
