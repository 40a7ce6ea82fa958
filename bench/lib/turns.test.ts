import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { tsxCommand } from './child.js';
import { runInTurns } from './turns.js';

let dir: string;
let log: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'bench-turns-'));
  log = join(dir, 'log');
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const child = (name: string, turns: number, ...mode: string[]) =>
  tsxCommand(new URL('./testing/turn-child.ts', import.meta.url).pathname, [name, log, String(turns), ...mode]);
const events = (): string[] => readFileSync(log, 'utf8').trim().split('\n');

describe('runInTurns', () => {
  it('gives turns round-robin, one child at a time, and collects every result', async () => {
    const given: string[] = [];
    const outcomes = await runInTurns([child('a', 2), child('b', 2)], { turns: 2, onTurn: (i, t) => given.push(`${i}:${t}`) });
    expect(outcomes).toEqual([
      { ok: true, value: { name: 'a' } },
      { ok: true, value: { name: 'b' } },
    ]);
    expect(given).toEqual(['0:0', '1:0', '0:1', '1:1']);
    // Each turn ends before the next begins: a never overlaps b.
    expect(events()).toEqual(['a start 0', 'a end 0', 'b start 0', 'b end 0', 'a start 1', 'a end 1', 'b start 1', 'b end 1']);
  });

  it('goes on without a child that failed, keeping its reason', async () => {
    const outcomes = await runInTurns([child('a', 3, '--fail-at', '1'), child('b', 3)], { turns: 3 });
    expect(outcomes).toEqual([
      { ok: false, reason: 'a fails in turn 1' },
      { ok: true, value: { name: 'b' } },
    ]);
    expect(events()).toEqual(['a start 0', 'a end 0', 'b start 0', 'b end 0', 'a start 1', 'b start 1', 'b end 1', 'b start 2', 'b end 2']);
  });

  it('kills a child whose turn outlasts the timeout', async () => {
    const outcomes = await runInTurns([child('a', 2, '--hang-at', '0'), child('b', 2)], { turns: 2, turnTimeoutMs: 2_000, setupTimeoutMs: 60_000 });
    expect(outcomes[0]).toEqual({ ok: false, reason: 'turn 0 took longer than 2 s without a result' });
    expect(outcomes[1]).toEqual({ ok: true, value: { name: 'b' } });
  });

  it('fails a child that wants more turns than the parent gives, once the parent closes its input', async () => {
    const outcomes = await runInTurns([child('a', 3)], { turns: 2 });
    expect(outcomes[0]).toEqual({
      ok: false,
      reason: 'the parent ended the turns before this child finished; it asked for more turns than the parent planned',
    });
  });
});
