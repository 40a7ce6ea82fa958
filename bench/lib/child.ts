/**
 * Measurements run in child processes: each starts fresh (no JIT state, heap or registered
 * kernels carried over from another measurement), and a crash or a hang costs one row of the
 * table instead of the whole benchmark.
 *
 * A child reports through exactly one stdout line starting with {@link RESULT_MARKER}, followed
 * by the JSON of a {@link ChildOutcome}. Anything else it prints (library banners, warnings) is
 * ignored. Children in other languages print the same line.
 */
import { spawn, type ChildProcessByStdio } from 'node:child_process';
import type { Readable, Writable } from 'node:stream';

export const RESULT_MARKER = '@@bench-result ';

export type ChildOutcome<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly reason: string };

/** One line, whatever the error: the reason is printed in a table cell. */
export function oneLine(text: string): string {
  return text.replace(/\s*\n\s*/g, ' ').trim();
}

/**
 * Inside a child: runs `main` and prints its value, or the message of what it threw, as the
 * result line. Sets the exit code to 1 on failure; never throws.
 */
export async function reportToParent<T>(main: () => Promise<T>): Promise<void> {
  let outcome: ChildOutcome<T>;
  try {
    outcome = { ok: true, value: await main() };
  } catch (error) {
    outcome = { ok: false, reason: oneLine(error instanceof Error ? error.message : String(error)) };
    process.exitCode = 1;
  }
  process.stdout.write(`\n${RESULT_MARKER}${JSON.stringify(outcome)}\n`);
}

export interface ChildCommand {
  readonly command: string;
  readonly args: readonly string[];
}

/**
 * A running child whose stdout arrives line by line. `exited` resolves when it has ended (or
 * could not start); `outcome()` then reads its result line.
 */
export class ChildHandle {
  readonly exited: Promise<void>;
  private readonly process: ChildProcessByStdio<Writable, Readable, Readable>;
  private stdout = '';
  private stderr = '';
  private pending = '';
  private startError: Error | undefined;
  private killedBy: string | undefined;
  private exitCode: number | null = null;
  private signal: NodeJS.Signals | null = null;
  private readonly lineListeners = new Set<(line: string) => void>();

  constructor(readonly spec: ChildCommand) {
    this.process = spawn(spec.command, spec.args, { stdio: ['pipe', 'pipe', 'pipe'] });
    this.process.stdin.on('error', () => {
      // A child that already exited closes its stdin; the exit itself is what gets reported.
    });
    this.process.stdout.setEncoding('utf8').on('data', (chunk: string) => this.onStdout(chunk));
    this.process.stderr.setEncoding('utf8').on('data', (chunk: string) => (this.stderr += chunk));
    this.exited = new Promise((resolve) => {
      this.process.on('error', (error) => {
        this.startError = error;
        resolve();
      });
      this.process.on('close', (code, signal) => {
        this.exitCode = code;
        this.signal = signal;
        resolve();
      });
    });
  }

  private onStdout(chunk: string): void {
    this.stdout += chunk;
    this.pending += chunk;
    let newline: number;
    while ((newline = this.pending.indexOf('\n')) >= 0) {
      const line = this.pending.slice(0, newline);
      this.pending = this.pending.slice(newline + 1);
      for (const listener of this.lineListeners) listener(line);
    }
  }

  /** Calls `listener` with every later line of stdout (without the newline); returns the unsubscribe. */
  onLine(listener: (line: string) => void): () => void {
    this.lineListeners.add(listener);
    return () => this.lineListeners.delete(listener);
  }

  /** Writes one line to the child's stdin. */
  send(line: string): void {
    this.process.stdin.write(`${line}\n`);
  }

  /** Closes the child's stdin (a child reading it sees the end). */
  endInput(): void {
    this.process.stdin.end();
  }

  /** Kills the child with SIGKILL; `reason` becomes its outcome's reason when it reported nothing. */
  kill(reason: string): void {
    this.killedBy ??= reason;
    this.process.kill('SIGKILL');
  }

  /** The child's reported outcome; call after `exited`. */
  outcome<T>(): ChildOutcome<T> {
    const { command } = this.spec;
    if (this.startError) return { ok: false, reason: `cannot start ${command}: ${this.startError.message}` };
    const line = this.stdout.split('\n').findLast((l) => l.startsWith(RESULT_MARKER));
    if (line !== undefined) {
      try {
        return JSON.parse(line.slice(RESULT_MARKER.length)) as ChildOutcome<T>;
      } catch (error) {
        return { ok: false, reason: `unreadable result line from ${command}: ${(error as Error).message}` };
      }
    }
    const lastError = this.stderr
      .trim()
      .split('\n')
      .findLast((l) => l.trim() !== '');
    const how = this.killedBy ?? (this.signal ? `killed by ${this.signal}` : `exited with code ${this.exitCode}`);
    return { ok: false, reason: oneLine(`${how} without a result${lastError ? `: ${lastError}` : ''}`) };
  }
}

export interface RunChildOptions {
  /** The child is killed (SIGKILL) when it runs longer. @default 300_000 */
  readonly timeoutMs?: number;
}

/**
 * Runs `command args` to completion and returns the outcome it reported. A child that exits
 * without a result line, is killed by the timeout or cannot start yields `ok: false` with the
 * reason (its last line of stderr when there is one); this function does not throw for them.
 */
export async function runChild<T>(command: string, args: readonly string[], options: RunChildOptions = {}): Promise<ChildOutcome<T>> {
  const timeoutMs = options.timeoutMs ?? 300_000;
  const child = new ChildHandle({ command, args });
  child.endInput();
  const timer = setTimeout(() => child.kill(`timed out after ${timeoutMs / 1000} s`), timeoutMs);
  await child.exited;
  clearTimeout(timer);
  return child.outcome<T>();
}

/** Command and arguments that run the TypeScript file `file` with this Node under tsx. */
export function tsxCommand(file: string, args: readonly string[] = []): ChildCommand & { args: string[] } {
  // A file URL, so the child finds tsx whatever its working directory.
  return { command: process.execPath, args: ['--import', import.meta.resolve('tsx'), file, ...args] };
}
