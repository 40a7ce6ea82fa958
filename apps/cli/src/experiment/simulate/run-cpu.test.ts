import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { roleFrom, RunCpuSampler, steadyWindow } from './run-cpu.js';

/**
 * A stand-in for a run's worker process: a script named dptrain.js started with the role `worker`
 * that closes a step (a metrics.jsonl record, as the coordinator writes them) after every
 * `perStepMs` of its own CPU, so its CPU per step is known whatever the machine's load.
 */
function fakeWorker(dir: string, steps: number, perStepMs: number, launcher?: string): Promise<void> {
  const script = join(dir, 'dptrain.js');
  writeFileSync(
    script,
    `const { appendFileSync } = require('node:fs');
const cpu = () => { const u = process.cpuUsage(); return (u.user + u.system) / 1000; };
let x = 0;
for (let step = 1; step <= ${steps}; step++) {
  const until = cpu() + ${perStepMs};
  while (cpu() < until) x += Math.sqrt(x + step);
  appendFileSync(${JSON.stringify(join(dir, 'metrics.jsonl'))}, JSON.stringify({ kind: 'step', step, time: new Date().toISOString() }) + '\\n');
}`,
  );
  // With a launcher, the process first shows `dptrain.js local` (as a child of dptrain local does
  // between fork and exec), then execs into the worker under the same pid.
  const child = launcher
    ? spawn('/bin/sh', [launcher, 'local'], { stdio: 'ignore', env: { ...process.env, NODE: process.execPath, SCRIPT: script } })
    : spawn(process.execPath, [script, 'worker', '--name', 'worker-0'], { stdio: 'ignore' });
  return new Promise((resolve, reject) => child.once('exit', (code) => (code === 0 ? resolve() : reject(new Error(`fake worker exited with ${code}`)))));
}

describe.runIf(process.platform === 'linux')('RunCpuSampler', () => {
  it("reads the CPU per steady step of a run's process from /proc, by role", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'run-cpu-'));
    const sampler = new RunCpuSampler();
    await fakeWorker(dir, 100, 20);
    const cpu = await sampler.perStep(dir);
    expect(cpu).toBeDefined();
    expect(Object.keys(cpu!.byRole)).toEqual(['worker']);
    expect(cpu!.processes).toEqual({ worker: 1 });
    expect(cpu!.steps).toBeGreaterThan(30);
    // 20 ms of CPU a step, read in 10 ms ticks at samples 50 ms apart: within a fifth.
    expect(cpu!.totalMs).toBeGreaterThan(16);
    expect(cpu!.totalMs).toBeLessThan(24);
    expect(cpu!.byRole['worker']!.mainMs).toBeGreaterThan(cpu!.byRole['worker']!.helperMs);
  });

  it("finds a process that showed another command line before it exec'd into its role", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'run-cpu-'));
    const launcher = join(mkdtempSync(join(tmpdir(), 'run-cpu-launcher-')), 'dptrain.js');
    // Long enough before the exec for several samples to see the launcher's command line.
    writeFileSync(launcher, 'sleep 0.3\nexec "$NODE" "$SCRIPT" worker --name worker-0\n');
    const sampler = new RunCpuSampler();
    await fakeWorker(dir, 60, 20, launcher);
    const cpu = await sampler.perStep(dir);
    expect(Object.keys(cpu?.byRole ?? {})).toEqual(['worker']);
    expect(cpu!.totalMs).toBeGreaterThan(16);
  });

  it('looks again at a process of the run caught inside execve, where its command line is empty', () => {
    const below = () => true;
    const elsewhere = () => false;
    // Measured on Linux 6.18: a child polled while `taskset … node` execs shows '' for a while, alive (state R).
    expect(roleFrom([''], below)).toBeUndefined();
    expect(roleFrom(['', '', ''], below)).toBeUndefined();
    // A kernel thread or another's zombie: set aside for good.
    expect(roleFrom([''], elsewhere)).toBe('other');
    expect(roleFrom(['/usr/bin/node', '/x/bin/dptrain.js', 'local', '--pin-cpus', ''], below)).toBeUndefined();
    expect(roleFrom(['taskset', '--cpu-list', '0', '/usr/bin/node', '/x/bin/dptrain.js', 'worker', ''], below)).toBe('worker');
    expect(roleFrom(['/usr/bin/node', '/x/bin/dptrain.js', 'ps', ''], elsewhere)).toBe('other');
    expect(roleFrom(['/usr/sbin/sshd', ''], below)).toBe('other');
  });

  it('says undefined when the run closed no step it could measure', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'run-cpu-'));
    writeFileSync(join(dir, 'metrics.jsonl'), '');
    expect(await new RunCpuSampler().perStep(dir)).toBeUndefined();
  });
});

describe('steadyWindow', () => {
  it('picks the steps between 30% and 85% of a run, the first and the last step of the run kept out', () => {
    expect(steadyWindow(21)).toEqual([6, 17]);
    expect(steadyWindow(301)).toEqual([90, 255]);
    expect(steadyWindow(1)).toEqual([0, 0]);
  });
});
