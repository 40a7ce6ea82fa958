import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cpuLineTicks, cpuTicks, statFields } from './proc-stat.js';

describe('statFields', () => {
  it('starts after the command name, even one holding spaces and parentheses', () => {
    const file = join(mkdtempSync(join(tmpdir(), 'proc-stat-')), 'stat');
    writeFileSync(file, '4242 (node (a) b) S 4200 4242 1 0 -1 0 0 0 0 0 731 52 9 3 20 0\n');
    const fields = statFields(file);
    expect([fields[0], fields[1]]).toEqual(['S', '4200']);
    expect(fields.slice(11, 15).map(Number)).toEqual([731, 52, 9, 3]);
  });

  it('reads this process’s own file: its parent is the pid Node reports', () => {
    expect(Number(statFields('/proc/self/stat')[1])).toBe(process.ppid);
  });
});

describe('cpuTicks', () => {
  it('reads each CPU’s line: idle and iowait are idle, steal is busy; the all-CPU line and others are left out', () => {
    const stat = ['cpu  300 10 100 5000 40 5 6 7 0 0', 'cpu0 100 5 50 2000 20 2 3 4 0 0', 'cpu1 200 5 50 3000 20 3 3 3 0 0', 'intr 123 4 5', 'ctxt 98765'].join(
      '\n',
    );
    expect([...cpuTicks(stat)]).toEqual([
      [0, { busy: 100 + 5 + 50 + 2 + 3 + 4, idle: 2020 }],
      [1, { busy: 200 + 5 + 50 + 3 + 3 + 3, idle: 3020 }],
    ]);
    expect(cpuLineTicks('cpu  300 10 100 5000 40 5 6')).toEqual({ busy: 421, idle: 5040 });
    expect(cpuLineTicks('intr 1 2')).toBeUndefined();
  });

  it('reads this machine’s: a CPU for every one Node counts, idle time never going back', async () => {
    const { availableParallelism } = await import('node:os');
    const before = cpuTicks();
    expect(before.size).toBeGreaterThanOrEqual(availableParallelism());
    const after = cpuTicks();
    for (const [cpu, t] of before) expect(after.get(cpu)!.idle).toBeGreaterThanOrEqual(t.idle);
  });
});
