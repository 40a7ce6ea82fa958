import { afterEach, describe, expect, it, vi } from 'vitest';
import { stderrLogger } from './logger.js';

afterEach(() => vi.restoreAllMocks());

describe('stderrLogger', () => {
  it('writes each record as one JSON line with its time first', () => {
    const lines: string[] = [];
    vi.spyOn(process.stderr, 'write').mockImplementation((chunk) => lines.push(String(chunk)) > 0);
    stderrLogger({ level: 'warn', event: 'shard-lost', shard: 1, reason: 'line\nbreak' });
    expect(lines).toHaveLength(1);
    expect(lines[0]!.endsWith('\n') && !lines[0]!.slice(0, -1).includes('\n')).toBe(true);
    const record = JSON.parse(lines[0]!) as Record<string, unknown>;
    expect(Object.keys(record)).toEqual(['time', 'level', 'event', 'shard', 'reason']);
    expect(Number.isNaN(Date.parse(String(record.time)))).toBe(false);
    expect(record).toMatchObject({ level: 'warn', event: 'shard-lost', shard: 1, reason: 'line\nbreak' });
  });
});
