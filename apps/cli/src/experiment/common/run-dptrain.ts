import { spawn } from 'node:child_process';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { readRunFolder, type RunFolder } from './run-folder.js';
import { withCode } from '@dptrain/errors';
import { BIN } from '../../app-root.js';

/** Thrown when a run of an experiment fails; the message names the command and its last output. */
export class ExperimentRunError extends withCode('E_EXPERIMENT_RUN') {}

export interface RunRequest {
  /** `train` (one process) or `local` (the cluster as child processes). */
  readonly command: 'train' | 'local';
  /** Job flags, e.g. ['--model', 'mlp', '--steps', '100']; `--out` is added. */
  readonly args: readonly string[];
  readonly out: string;
  /** @default 1_800_000 */
  readonly timeoutMs?: number;
}

/** The command line of a run as a user would type it. */
export function commandLine(request: RunRequest): string {
  return ['dptrain', request.command, ...request.args, '--out', request.out].join(' ');
}

/**
 * Runs `dptrain <command>` in a child process (bin/dptrain.js, as a user would), waits for it and
 * reads its run folder. The parameters file is deleted: reports keep only summaries and metrics.
 * `--force`: the experiment owns its folder, so running it again replaces its earlier runs.
 */
export async function runDptrain(request: RunRequest): Promise<RunFolder> {
  const child = spawn(process.execPath, [BIN, request.command, ...request.args, '--out', request.out, '--force'], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-4000)));
  // Ctrl-C or SIGTERM stops the whole experiment, not just this run: the child first, then this process.
  const interrupt = (signal: NodeJS.Signals): void => {
    child.once('exit', () => process.exit(130));
    child.kill(signal);
  };
  process.once('SIGINT', interrupt);
  process.once('SIGTERM', interrupt);
  const timer = setTimeout(() => child.kill('SIGTERM'), request.timeoutMs ?? 1_800_000);
  const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve) => child.once('exit', (c, s) => resolve([c, s])));
  clearTimeout(timer);
  process.off('SIGINT', interrupt);
  process.off('SIGTERM', interrupt);
  if (code !== 0) {
    const lines = stderr
      .trim()
      .split('\n')
      .filter((l) => l.trim() !== '');
    const plain = lines.filter((l) => !l.startsWith('{'));
    const tail = (plain.length > 0 ? plain : lines).slice(-3).join(' | ');
    throw new ExperimentRunError(
      `\`${commandLine(request)}\` ${signal ? `was stopped by ${signal}` : `exited with code ${code}`}: ${tail || 'no error output'}; run it alone to see the whole log`,
    );
  }
  await rm(join(request.out, 'params.safetensors'), { force: true });
  await rm(join(request.out, 'checkpoints'), { recursive: true, force: true });
  return readRunFolder(request.out);
}
