import { spawnSync } from 'node:child_process';
import { expect } from 'vitest';

/**
 * The samples of a Prometheus text exposition: `name{labels}` → value; comments checked for form.
 * Values are Go ParseFloat's: NaN in any case (prom-client writes `Nan`), ±Inf.
 */
export function parseExposition(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line === '') continue;
    if (line.startsWith('#')) {
      expect(line).toMatch(/^# (HELP|TYPE) [a-zA-Z_:][a-zA-Z0-9_:]* .+$/);
      continue;
    }
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*(?:\{(?:[a-zA-Z_][a-zA-Z0-9_]*="[^"]*",?)*\})?) (-?[0-9.e+-]+|[Nn]a[Nn]|[+-]Inf)$/.exec(line);
    expect(m, line).not.toBeNull();
    out.set(m![1]!, Number(m![2]));
  }
  return out;
}

/** Whether Prometheus's own checker is installed (Debian: apt-get install prometheus). */
export const PROMTOOL = spawnSync('promtool', ['--version']).status === 0;

/**
 * `promtool check metrics` on an exposition: the format and the naming conventions (counters end
 * in _total, base units, help text). Its findings, or '' when it has none.
 */
export function promtoolFindings(text: string): string {
  const result = spawnSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8' });
  return result.status === 0 ? '' : `${result.stdout}${result.stderr}`.trim() || `promtool exited with ${result.status}`;
}
