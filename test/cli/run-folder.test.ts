import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readlinkSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { expectClock, readMetrics, withoutTime } from './metrics-file.js';
import { runCli } from './run-cli.js';
import { smallJob } from '../small-job.js';

// Run folders as a user meets them: a new one per run unless --out names one, a used one refused
// unless --force, and a stopped run continued with --resume to the bits of an uninterrupted one.

const BIN = fileURLToPath(new URL('../../apps/cli/bin/dptrain.js', import.meta.url));
const JOB = smallJob(['--epochs', '3', '--checkpoint-every', '20']);
const steps = (dir: string): number =>
  existsSync(join(dir, 'metrics.jsonl'))
    ? readFileSync(join(dir, 'metrics.jsonl'), 'utf8')
        .split('\n')
        .filter((l) => l.includes('"kind":"step"')).length
    : 0;

/** Starts `dptrain ARGS`, and once its run folder holds `atStep` steps sends `signal` (once); resolves with its exit. */
function stopAt(args: string[], dir: string, atStep: number, signal: NodeJS.Signals): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  const child = spawn(process.execPath, [BIN, ...args], { stdio: 'ignore' });
  const watch = setInterval(() => {
    if (steps(dir) < atStep) return;
    clearInterval(watch);
    child.kill(signal);
  }, 20);
  return new Promise((resolve) =>
    child.once('exit', (code, how) => {
      clearInterval(watch);
      resolve({ code, signal: how });
    }),
  );
}

describe('run folders', () => {
  it('makes a new folder per run under runs/, points runs/latest at it, and refuses a used --out unless --force', async () => {
    const cwd = mkdtempSync(join(tmpdir(), 'runs-cwd-'));
    const first = await runCli(['train', ...JOB, '--steps', '5'], {}, cwd);
    expect(first.code).toBe(0);
    const made = readdirSync(join(cwd, 'runs')).filter((n) => n !== 'latest');
    expect(made).toEqual([expect.stringMatching(/^\d{8}-\d{6}-mlp$/)]);
    expect(readlinkSync(join(cwd, 'runs', 'latest'))).toBe(made[0]);
    expect(first.stdout).toContain(`run folder runs/${made[0]}`);

    const out = join(cwd, 'runs', made[0]!);
    const refused = await runCli(['train', ...JOB, '--steps', '5', '--out', out]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain(`[E_RUN_FOLDER] ${out} is not empty (`);
    expect(refused.stderr).toContain(
      `give another --out (without one, every run gets a new folder), --resume ${out} to continue the run in it, or --force to replace it`,
    );
    const forced = await runCli(['train', ...JOB, '--steps', '7', '--out', out, '--force']);
    expect(forced.code).toBe(0);
    expect(JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8')).steps).toBe(7);
  });

  it('train --resume continues a killed run to the bits and metrics of an uninterrupted one', async () => {
    const [whole, stopped] = [mkdtempSync(join(tmpdir(), 'whole-')), mkdtempSync(join(tmpdir(), 'stopped-'))];
    const reference = runCli(['train', ...JOB, '--out', whole]);
    expect((await stopAt(['train', ...JOB, '--out', stopped], stopped, 100, 'SIGKILL')).signal).toBe('SIGKILL');
    const resumed = await runCli(['train', '--resume', stopped]);
    expect(resumed.code).toBe(0);
    expect((await reference).code).toBe(0);
    expect(readFileSync(join(stopped, 'params.safetensors')).equals(readFileSync(join(whole, 'params.safetensors')))).toBe(true);
    // Everything but when each record was written; the resumed run's clock never runs backwards.
    expect(withoutTime(readMetrics(stopped))).toEqual(withoutTime(readMetrics(whole)));
    expectClock(readMetrics(stopped));
  });

  it('local --resume continues a run stopped with Ctrl-C to the bits of dptrain train; local --force replaces it', async () => {
    const [whole, stopped] = [mkdtempSync(join(tmpdir(), 'whole-')), mkdtempSync(join(tmpdir(), 'local-stopped-'))];
    const reference = runCli(['train', ...JOB, '--out', whole]);
    expect((await stopAt(['local', ...JOB, '--workers', '2', '--out', stopped], stopped, 100, 'SIGINT')).code).toBe(130);
    const resumed = await runCli(['local', '--resume', stopped]);
    expect(resumed.code).toBe(0);
    expect((await reference).code).toBe(0);
    expect(readFileSync(join(stopped, 'params.safetensors')).equals(readFileSync(join(whole, 'params.safetensors')))).toBe(true);

    // A cluster's run folder holds more (cluster.json, each process's metrics-<name>.prom): --force clears it all.
    const forced = await runCli(['local', ...JOB, '--steps', '7', '--workers', '2', '--out', stopped, '--force']);
    expect(forced.stderr).not.toContain('E_RUN_FOLDER');
    expect(forced.code).toBe(0);
    expect(JSON.parse(readFileSync(join(stopped, 'summary.json'), 'utf8')).steps).toBe(7);
  });

  it('refuses --resume of a folder that holds no run, and job flags beside --resume', async () => {
    const empty = mkdtempSync(join(tmpdir(), 'empty-'));
    const [nothing, flags] = await Promise.all([runCli(['train', '--resume', empty]), runCli(['train', '--resume', empty, '--lr', '0.1'])]);
    expect(nothing.stderr).toContain(`[E_RUN_FOLDER] ${empty} holds no run to resume (no config.json; the folder is empty or missing)`);
    expect(flags.stderr).toContain(`--resume ${empty} takes the job from its config.json; drop --lr`);
  });
});
