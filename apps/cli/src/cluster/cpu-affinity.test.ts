import { spawn, spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { affinityOf, allowedCpus, checkTaskset, pinned } from './cpu-affinity.js';

describe('allowedCpus', () => {
  it('reads the kernel’s list of the CPUs this process may use, ranges and single ones', () => {
    expect(allowedCpus('Name:\tnode\nCpus_allowed:\tff\nCpus_allowed_list:\t0-2,5,7-8\n')).toEqual([0, 1, 2, 5, 7, 8]);
  });

  it('falls back to 0..n−1 where there is no list', () => {
    const cpus = allowedCpus('Name:\tnode\n');
    expect(cpus.length).toBeGreaterThan(0);
    expect(cpus).toEqual(cpus.map((_, i) => i));
  });
});

describe('pinned', () => {
  it('runs the command with every thread on the one CPU, the last this process may use', () => {
    checkTaskset();
    const cpu = allowedCpus().at(-1)!;
    const [command, args] = pinned(cpu, process.execPath, ['-e', "process.stdout.write(require('fs').readFileSync('/proc/self/status', 'utf8'))"]);
    const child = spawnSync(command, args, { encoding: 'utf8' });
    expect(child.status).toBe(0);
    expect(allowedCpus(child.stdout)).toEqual([cpu]);
  });
});

describe('affinityOf', () => {
  it('moves every thread of a running process onto one CPU, and gives it back all it had', async () => {
    checkTaskset();
    // A child with several threads (V8's helpers) that lives until its stdin closes.
    const child = spawn(process.execPath, ['-e', "process.stdin.resume(); process.stdin.on('end', () => process.exit(0)); process.stdout.write('up')"], {
      stdio: ['pipe', 'pipe', 'ignore'],
    });
    try {
      await new Promise((resolve) => child.stdout!.once('data', resolve));
      const threadCpus = () => readdirSync(`/proc/${child.pid}/task`).map((tid) => allowedCpus(readFileSync(`/proc/${child.pid}/task/${tid}/status`, 'utf8')));
      const before = allowedCpus(readFileSync(`/proc/${child.pid}/status`, 'utf8'));
      const affinity = affinityOf(child.pid!)!;
      expect(affinity.cpus).toEqual(before);
      const last = before.length - 1;
      affinity.pin(last);
      expect(threadCpus().length).toBeGreaterThan(1);
      expect(new Set(threadCpus().map((c) => c.join(',')))).toEqual(new Set([String(before[last])]));
      affinity.release();
      expect(new Set(threadCpus().map((c) => c.join(',')))).toEqual(new Set([before.join(',')]));
    } finally {
      child.stdin!.end();
    }
  });

  it('moves a process whose threads come and go, a thread exiting under taskset included', async () => {
    checkTaskset();
    // Worker threads started and ended back to back, each living a few milliseconds.
    const churn = `const { Worker } = require('node:worker_threads');
      const again = () => new Worker('setTimeout(() => {}, 2)', { eval: true }).once('exit', again);
      for (let i = 0; i < 4; i++) again();
      process.stdout.write('up'); process.stdin.resume(); process.stdin.on('end', () => process.exit(0));`;
    const child = spawn(process.execPath, ['-e', churn], { stdio: ['pipe', 'pipe', 'ignore'] });
    try {
      await new Promise((resolve) => child.stdout!.once('data', resolve));
      const affinity = affinityOf(child.pid!)!;
      for (let i = 0; i < 40; i++) {
        affinity.pin(i);
        affinity.release();
      }
      expect(allowedCpus(readFileSync(`/proc/${child.pid}/status`, 'utf8'))).toEqual(affinity.cpus);
    } finally {
      child.stdin!.end();
    }
  });
});
