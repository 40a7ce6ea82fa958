import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const BIN = fileURLToPath(new URL('../../apps/cli/bin/dptrain.js', import.meta.url));
const TRACE = fileURLToPath(new URL('./fixtures/trace-imports.mjs', import.meta.url));

export interface TracedRun {
  readonly code: number;
  readonly stderr: string;
  /** URLs of every module the process loaded. */
  readonly imports: string[];
}

/** Runs `dptrain` with a loader hook that lists, as the process exits, every module it loaded. */
export function runTraced(args: readonly string[], env: NodeJS.ProcessEnv = {}): Promise<TracedRun> {
  return new Promise((resolve) => {
    execFile(process.execPath, ['--import', TRACE, BIN, ...args], { env: { ...process.env, ...env } }, (error, _stdout, stderr) => {
      const lines = stderr.split('\n');
      resolve({
        code: error ? (typeof error.code === 'number' ? error.code : 1) : 0,
        stderr: lines.filter((l) => !l.startsWith('imported ')).join('\n'),
        imports: lines.filter((l) => l.startsWith('imported ')).map((l) => l.slice('imported '.length)),
      });
    });
  });
}

/** The modules a command must not load before it acts: TensorFlow.js and the lab. */
export const heavy = (urls: readonly string[]): string[] =>
  urls.filter((u) => /@tensorflow|vega|\/libs\/simulator\/|\/experiment\/|\/chaos\/|fast-check/.test(u));

/** The npm packages of those: what a run from the bundle shows (our own modules sit in its chunks). */
export const heavyPackages = (urls: readonly string[]): string[] => urls.filter((u) => /\/node_modules\/(@tensorflow|vega|fast-check)/.test(u));
