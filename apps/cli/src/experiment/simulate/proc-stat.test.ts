import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { statFields } from './proc-stat.js';

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
