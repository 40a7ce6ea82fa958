import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { JobConfig } from '@dptrain/config';

const BIN = fileURLToPath(new URL('../../apps/cli/bin/dptrain.js', import.meta.url));

/** What `dptrain --dry-run <role>` prints: the job config (train, local, coordinator) and the role's options. */
export interface Settings {
  readonly command: string;
  readonly config?: JobConfig;
  readonly options?: Readonly<Record<string, string | number>>;
}

/** The CLI's exit code and stderr when it refused the command line. */
export class DryRunRefused extends Error {
  constructor(
    readonly exitCode: number,
    readonly stderr: string,
    args: readonly string[],
  ) {
    super(`dptrain --dry-run ${args.join(' ')} exited ${exitCode}: ${stderr.trim()}`);
  }
}

/**
 * Runs the `dptrain` command in a child process whose environment is `env` and nothing of this
 * process's but PATH, as a container starts it.
 */
export function runDptrain(args: readonly string[], env: Readonly<Record<string, string>>): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [BIN, ...args], { env: { PATH: process.env.PATH ?? '', ...env } }, (error, stdout, stderr) => {
      resolve({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, stdout, stderr });
    });
  });
}

/**
 * `dptrain --dry-run <args>` with exactly `env`: the CLI's own resolution and checks of flags,
 * environment and config file, without running the role.
 * @throws {DryRunRefused} (rejects) with the CLI's exit code and message when it refuses
 */
export async function dryRun(args: readonly string[], env: Readonly<Record<string, string>>): Promise<Settings> {
  const result = await runDptrain(['--dry-run', ...args], env);
  if (result.code !== 0) throw new DryRunRefused(result.code, result.stderr, args);
  return JSON.parse(result.stdout) as Settings;
}
