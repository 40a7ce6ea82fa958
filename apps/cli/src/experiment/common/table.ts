/** A cell of a results table: results.json, results.csv and report.md hold the same values. */
export type Cell = string | number | boolean | null;
export type TableRow = Record<string, Cell>;

export interface Column {
  /** The field of the row; also the CSV header. */
  readonly key: string;
  /** The Markdown header. */
  readonly header: string;
}

function text(cell: Cell | undefined): string {
  if (cell === null || cell === undefined) return '—';
  if (typeof cell === 'boolean') return cell ? 'yes' : 'no';
  return String(cell);
}

/** A GitHub Markdown table of `rows` over `columns`; null cells read "—". */
export function markdownTable(columns: readonly Column[], rows: readonly TableRow[]): string {
  const line = (cells: readonly string[]): string => `| ${cells.map((c) => c.replace(/\|/g, '\\|')).join(' | ')} |`;
  return [line(columns.map((c) => c.header)), line(columns.map(() => '---')), ...rows.map((r) => line(columns.map((c) => text(r[c.key]))))].join('\n');
}

function csvField(cell: Cell | undefined): string {
  const value = cell === null || cell === undefined ? '' : String(cell);
  return /[",\n]/.test(value) ? `"${value.replace(/"/g, '""')}"` : value;
}

/** RFC 4180 CSV of `rows`, one column per key, the keys as the header line. */
export function toCsv(keys: readonly string[], rows: readonly TableRow[]): string {
  return `${[keys.join(','), ...rows.map((r) => keys.map((k) => csvField(r[k])).join(','))].join('\n')}\n`;
}

/** `value` to `digits` significant digits, so the tables stay readable and equal results.json. */
export function sig(value: number, digits = 4): number {
  if (!Number.isFinite(value) || value === 0) return value;
  return Number(value.toPrecision(digits));
}
