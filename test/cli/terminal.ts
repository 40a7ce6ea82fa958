import { spawn, spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const BIN = fileURLToPath(new URL('../../apps/cli/bin/dptrain.js', import.meta.url));

/** Whether util-linux's `script`, which gives a command a pseudo-terminal, is here. */
export const hasScript = spawnSync('script', ['--version']).status === 0;

const quote = (s: string): string => `'${s.replaceAll("'", "'\\''")}'`;

/** `dptrain ARGS` on a pseudo-terminal, as in a user's terminal: stdout and stderr are the terminal. */
export class TerminalRun {
  /** Everything the terminal showed, escape sequences included. */
  screen = '';
  readonly exited: Promise<number | null>;
  private readonly child;
  private waiters: { pattern: RegExp; resolve: () => void }[] = [];

  constructor(args: readonly string[], env: NodeJS.ProcessEnv = {}) {
    const command = [process.execPath, BIN, ...args].map(quote).join(' ');
    // -e: the command's exit status; -f: flush as it writes; the typescript file is /dev/null.
    this.child = spawn('script', ['-qefc', command, '/dev/null'], {
      env: { ...process.env, TERM: 'xterm', COLUMNS: '120', ...env },
      stdio: ['pipe', 'pipe', 'inherit'],
    });
    this.child.stdout.on('data', (chunk: Buffer) => {
      this.screen += chunk.toString();
      this.waiters = this.waiters.filter((w) => (w.pattern.test(this.screen) ? (w.resolve(), false) : true));
    });
    this.exited = new Promise((resolve) => this.child.once('close', (code) => resolve(code)));
  }

  /** Resolves once the terminal has shown text matching `pattern`; rejects if the command ends first. */
  shows(pattern: RegExp): Promise<void> {
    if (pattern.test(this.screen)) return Promise.resolve();
    const shown = new Promise<void>((resolve) => this.waiters.push({ pattern, resolve }));
    const ended = this.exited.then((code) =>
      Promise.reject(new Error(`dptrain exited (${code}) before showing ${pattern}; the terminal showed:\n${this.screen.slice(-2000)}`)),
    );
    return Promise.race([shown, ended]);
  }

  /** Ctrl-C, typed: the terminal sends SIGINT to its foreground process group. */
  pressCtrlC(): void {
    this.child.stdin.write('\u0003');
  }
}

/** Whether a process with this pid is still running. */
export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
