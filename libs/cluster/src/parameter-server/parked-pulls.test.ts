import type { Connection, MessageOf } from '@dptrain/protocol';
import { describe, expect, it } from 'vitest';
import { MAX_HELD_PULLS, ParkedPulls } from './parked-pulls.js';
import { thrownCode } from './shard-rig.js';

const peer = (): Connection & { isOpen: boolean } => ({ isOpen: true }) as unknown as Connection & { isOpen: boolean };
let seq = 0;
const pull = (): MessageOf<'pull'> => ({ type: 'pull', seq: seq++, step: 1 });

describe('ParkedPulls', () => {
  it('answers, in arrival order, the pulls a version reaches, and keeps the rest', () => {
    const parked = new ParkedPulls(0);
    const [a, b] = [peer(), peer()];
    const first = pull();
    const later = pull();
    const second = pull();
    parked.park(a, first, 1, 0, 2);
    parked.park(b, later, 2, 0, 2);
    parked.park(b, second, 1, 0, 2);
    expect(parked.take(1).map((p) => p.request)).toEqual([first, second]);
    expect(parked.size).toBe(1);
    expect(parked.take(1)).toEqual([]);
    expect(parked.take(2).map((p) => p.request)).toEqual([later]);
    expect(parked.size).toBe(0);
  });

  it(`parks at most ${MAX_HELD_PULLS} pulls per connection and none further ahead than allowed`, () => {
    const parked = new ParkedPulls(3);
    const [a, b] = [peer(), peer()];
    for (let i = 0; i < MAX_HELD_PULLS; i++) parked.park(a, pull(), 1, 0, 2);
    expect(thrownCode(() => parked.park(a, pull(), 1, 0, 2))).toBe('E_LIMIT');
    expect(thrownCode(() => parked.park(b, pull(), 3, 0, 2))).toBe('E_RANGE');
    expect(() => parked.park(b, pull(), 3, 0, 2)).toThrow("pull of version 3 is more than 2 past shard 3's version 0");
    expect(thrownCode(() => parked.park(b, pull(), 2, 0, 2))).toBe('none');
    expect(parked.size).toBe(MAX_HELD_PULLS + 1);
  });

  it("drops a closed connection's pulls and gives none of a connection closed meanwhile", () => {
    const parked = new ParkedPulls(0);
    const [a, b, c] = [peer(), peer(), peer()];
    parked.park(a, pull(), 1, 0, 2);
    parked.park(b, pull(), 1, 0, 2);
    parked.park(c, pull(), 2, 0, 2);
    parked.drop(a);
    b.isOpen = false;
    expect(parked.take(1)).toEqual([]);
    expect(parked.takeAll().map((p) => p.connection)).toEqual([c]);
    expect(parked.size).toBe(0);
  });
});
