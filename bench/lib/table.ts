/** Markdown tables whose columns line up in a terminal as well as when rendered. */

export type Align = 'left' | 'right';

export interface Column<Row> {
  readonly header: string;
  /** The cell's text for `row`. */
  readonly cell: (row: Row) => string;
  /** @default 'left' */
  readonly align?: Align;
}

/**
 * Formats `rows` as a GitHub-flavoured markdown table, every column padded to its widest cell;
 * right-aligned columns get the `---:` marker. Width counts code points, so `×` and `≥` take one.
 * @throws {RangeError} when there are no columns.
 */
export function formatTable<Row>(columns: readonly Column<Row>[], rows: readonly Row[]): string {
  if (columns.length === 0) throw new RangeError('formatTable needs at least one column');
  const cells = rows.map((row) => columns.map((c) => c.cell(row).replaceAll('|', '\\|')));
  const widths = columns.map((c, i) => Math.max(3, length(c.header), ...cells.map((r) => length(r[i]))));
  const pad = (text: string, i: number): string => {
    const fill = ' '.repeat(widths[i] - length(text));
    return columns[i].align === 'right' ? fill + text : text + fill;
  };
  const line = (texts: readonly string[]): string => `| ${texts.map(pad).join(' | ')} |`;
  const rule = `|${widths.map((w, i) => (columns[i].align === 'right' ? `${'-'.repeat(w + 1)}:` : '-'.repeat(w + 2))).join('|')}|`;
  return [line(columns.map((c) => c.header)), rule, ...cells.map(line)].join('\n');
}

function length(text: string): number {
  return [...text].length;
}

/** `12345.6` → `12,346`: thousands separators, no decimals (rates of samples per second). */
export function formatCount(value: number): string {
  return Math.round(value).toLocaleString('en-US');
}

/** `0.8123` → `0.81×`. */
export function formatRatio(value: number): string {
  return `${value.toFixed(2)}×`;
}
