import { describe, expect, it } from 'vitest';
import { formatCount, formatRatio, formatTable, type Column } from './table.js';

interface Row {
  name: string;
  rate: number;
}

const columns: Column<Row>[] = [
  { header: 'name', cell: (r) => r.name },
  { header: 'rate', align: 'right', cell: (r) => formatCount(r.rate) },
];

describe('formatTable', () => {
  it('pads every column to its widest cell and marks right-aligned ones', () => {
    const text = formatTable(columns, [
      { name: 'dptrain', rate: 7625.4 },
      { name: 'x', rate: 12 },
    ]);
    // widths: name = max(4, 7, 1) = 7; rate = max(4, 5 ("7,625"), 2) = 5
    expect(text).toBe(['| name    |  rate |', '|---------|------:|', '| dptrain | 7,625 |', '| x       |    12 |'].join('\n'));
  });

  it('counts × and – as one column each and escapes pipes', () => {
    const text = formatTable([{ header: 'r', cell: (v: string) => v }], ['0.9×', 'a|b']);
    // widths: max(3, 1, 4, 4) = 4 ("a\|b" is 4 characters)
    expect(text.split('\n')).toEqual(['| r    |', '|------|', '| 0.9× |', '| a\\|b |']);
  });

  it('refuses a table without columns', () => {
    expect(() => formatTable([], [])).toThrow(RangeError);
  });
});

describe('formatCount and formatRatio', () => {
  it('round to whole counts with separators and to two decimals', () => {
    expect(formatCount(1234567.5)).toBe('1,234,568');
    expect(formatRatio(0.8149)).toBe('0.81×');
  });
});
