import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'vitest';
import { runCli } from '../cli/run-cli.js';
import { cellValue, markdownRows, parseSvg } from './svg.js';

export interface ExperimentOutput {
  readonly out: string;
  readonly report: string;
  readonly results: Record<string, unknown>;
  readonly csv: Record<string, string>[];
  /** The texts of each SVG's `<text>` elements, by file name; every SVG has been parsed. */
  readonly svgTexts: Record<string, string[]>;
  readonly cleanup: () => void;
}

/** Runs `dptrain experiment <name> <args> --out <tmp>` and reads and checks the folder it writes. */
export async function runExperiment(name: string, args: readonly string[], svgs: readonly string[]): Promise<ExperimentOutput> {
  const out = mkdtempSync(join(tmpdir(), `experiment-${name}-`));
  const result = await runCli(['experiment', name, ...args, '--out', out]);
  expect(result.stderr).not.toMatch(/^dptrain: /m);
  expect(result.code).toBe(0);
  const read = (file: string): string => readFileSync(join(out, file), 'utf8');
  const svgTexts: Record<string, string[]> = {};
  for (const svg of svgs) {
    const parsed = parseSvg(read(svg));
    expect(parsed.root).toBe('svg');
    svgTexts[svg] = parsed.texts;
  }
  const report = read('report.md');
  for (const svg of svgs) expect(report).toContain(`](${svg})`);
  expect(report).toContain(['dptrain experiment', name, ...args, '--out', out].join(' '));
  expect(existsSync(join(out, 'runs'))).toBe(true);
  return {
    out,
    report,
    results: JSON.parse(read('results.json')) as Record<string, unknown>,
    csv: parseCsv(read('results.csv')),
    svgTexts,
    cleanup: () => rmSync(out, { recursive: true, force: true }),
  };
}

/** Plain CSV (the tests' values have no quoted commas) into header → field. */
function parseCsv(text: string): Record<string, string>[] {
  const [header, ...lines] = text.trim().split('\n');
  const keys = header!.split(',');
  return lines.map((l) => Object.fromEntries(l.split(',').map((v, i) => [keys[i]!, v])));
}

/**
 * Every row of the report's table after `heading` shows the values results.json has for the same
 * row (matched by `idHeader` ↔ `idKey`), column by column as `columns` maps headers to keys.
 */
export function expectTableMatches(
  report: string,
  heading: string,
  rows: readonly Record<string, unknown>[],
  idHeader: string,
  idKey: string,
  columns: Readonly<Record<string, string>>,
): void {
  const table = markdownRows(report, heading);
  expect(table.length).toBe(rows.length);
  for (const line of table) {
    const row = rows.find((r) => String(r[idKey]) === line[idHeader]);
    expect(row, `row ${line[idHeader]} in results.json`).toBeDefined();
    for (const [header, key] of Object.entries(columns)) {
      const expected = row![key] ?? null;
      // A text cell such as the staleness histogram "24" stays text, whatever it looks like.
      expect(typeof expected === 'string' ? line[header] : cellValue(line[header]!), `${line[idHeader]} ${header}`).toEqual(expected);
    }
  }
}
