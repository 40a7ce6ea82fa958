import { describe, expect, it } from 'vitest';
import { ConfigError } from '@dptrain/config';
import { intList, nameList, numberList } from './lists.js';
import { markdownTable, sig, toCsv } from './table.js';

describe('markdownTable', () => {
  it('prints the row values under the headers; null as —, booleans as yes/no, pipes escaped', () => {
    const table = markdownTable(
      [
        { key: 'a', header: 'A' },
        { key: 'b', header: 'B' },
        { key: 'c', header: 'C' },
      ],
      [
        { a: 1.5, b: null, c: true },
        { a: 'x|y', b: false, c: 0 },
      ],
    );
    expect(table.split('\n')).toEqual(['| A | B | C |', '| --- | --- | --- |', '| 1.5 | — | yes |', '| x\\|y | no | 0 |']);
  });
});

describe('toCsv', () => {
  it('quotes fields with commas or quotes and leaves null empty', () => {
    expect(
      toCsv(
        ['a', 'b'],
        [
          { a: 'x,"y"', b: null },
          { a: 2, b: 3 },
        ],
      ),
    ).toBe('a,b\n"x,""y""",\n2,3\n');
  });
});

describe('sig', () => {
  it('keeps significant digits, not decimals', () => {
    expect([sig(1234.5678), sig(0.000123456), sig(0)]).toEqual([1235, 0.0001235, 0]);
  });
});

describe('list flags', () => {
  it('parse comma-separated values in order', () => {
    expect(intList('--workers', '1, 2,4')).toEqual([1, 2, 4]);
    expect(numberList('--lr-factors', '0.3,1,3')).toEqual([0.3, 1, 3]);
    expect(nameList('--mode', 'async,sync', ['sync', 'async'])).toEqual(['async', 'sync']);
  });

  it('refuse a bad item naming the flag and the item', () => {
    expect(() => intList('--workers', '1,0')).toThrow(ConfigError);
    expect(() => intList('--workers', '1,two')).toThrow(/--workers 1,two: "two" is not a positive integer/);
    expect(() => nameList('--mode', 'sync,fast', ['sync', 'async'])).toThrow(/"fast" is not one of sync, async/);
    expect(() => numberList('--lr-factors', ',')).toThrow(/is empty/);
  });
});
