import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { allowedCpus, checkTaskset, pinned } from './cpu-affinity.js';

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
