/**
 * Measurements run in child processes, one at a time: each starts from a fresh process (no JIT
 * state, heap or registered kernels carried over from the previous measurement), and a crash or
 * a hang costs one row of the table instead of the whole benchmark.
 *
 * A child reports through exactly one stdout line starting with {@link RESULT_MARKER}, followed
 * by the JSON of a {@link ChildOutcome}. Anything else the child prints (library banners,
 * warnings) is ignored. Children in other languages print the same line.
 */
import { spawn } from 'node:child_process';

export const RESULT_MARKER = '@@bench-result ';

export type ChildOutcome<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly reason: string };

export interface RunChildOptions {
  /** The child is killed (SIGKILL) when it runs longer. @default 300_000 */
  readonly timeoutMs?: number;
  /** @default this process's working directory */
  readonly cwd?: string;
  /** @default this process's environment */
  readonly env?: NodeJS.ProcessEnv;
}

/** One line, whatever the error: the reason is printed in a table cell. */
function oneLine(text: string): string {
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

/**
 * Runs `command args` to completion and returns the outcome it reported. A child that exits
 * without a result line, is killed by the timeout or cannot start yields `ok: false` with the
 * reason (its last line of stderr when there is one); this function does not throw for them.
 */
export function runChild<T>(command: string, args: readonly string[], options: RunChildOptions = {}): Promise<ChildOutcome<T>> {
  const timeoutMs = options.timeoutMs ?? 300_000;
  return new Promise((resolve) => {
    const child = spawn(command, args, { cwd: options.cwd, env: options.env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let timedOut = false;
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, timeoutMs);
    child.on('error', (error) => {
      clearTimeout(timer);
      resolve({ ok: false, reason: `cannot start ${command}: ${error.message}` });
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      const line = stdout.split('\n').findLast((l) => l.startsWith(RESULT_MARKER));
      if (line !== undefined) {
        try {
          resolve(JSON.parse(line.slice(RESULT_MARKER.length)) as ChildOutcome<T>);
        } catch (error) {
          resolve({ ok: false, reason: `unreadable result line from ${command}: ${(error as Error).message}` });
        }
        return;
      }
      const lastError = stderr.trim().split('\n').findLast((l) => l.trim() !== '');
      const how = timedOut ? `timed out after ${timeoutMs / 1000} s` : signal ? `killed by ${signal}` : `exited with code ${code}`;
      resolve({ ok: false, reason: oneLine(`${how} without a result${lastError ? `: ${lastError}` : ''}`) });
    });
  });
}

/** Command and arguments that run the TypeScript file `file` with this Node under tsx. */
export function tsxCommand(file: string, args: readonly string[] = []): { command: string; args: string[] } {
  // A file URL, so the child finds tsx whatever its working directory.
  return { command: process.execPath, args: ['--import', import.meta.resolve('tsx'), file, ...args] };
}
