import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ConfigError } from '@dptrain/config';

export const PLOT_FORMATS = ['svg', 'png'] as const;
export type PlotFormat = (typeof PLOT_FORMATS)[number];

/** `--format svg,png`: the formats to write, each once. */
export function plotFormats(text: string): PlotFormat[] {
  const items = text
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
  if (items.length === 0) throw new ConfigError('E_CONFIG_VALUE', `--format "${text}" names no format; give svg, png or both (--format svg,png)`);
  const formats = items.map((item) => {
    if (!(PLOT_FORMATS as readonly string[]).includes(item))
      throw new ConfigError('E_CONFIG_VALUE', `--format ${text}: "${item}" is not a plot format; give svg, png or both (--format svg,png)`);
    return item as PlotFormat;
  });
  return [...new Set(formats)];
}

/** Writes each plot (`name.svg` → SVG text) into `out` in each format; returns the paths written. */
export async function writePlots(out: string, plots: Record<string, string>, formats: readonly PlotFormat[]): Promise<string[]> {
  await mkdir(out, { recursive: true });
  const written: string[] = [];
  for (const [name, svg] of Object.entries(plots)) {
    if (formats.includes('svg')) {
      await writeFile(join(out, name), svg);
      written.push(join(out, name));
    }
    if (formats.includes('png')) {
      const { svgToPng } = await import('./png.js');
      const path = join(out, name.replace(/\.svg$/, '.png'));
      await writeFile(path, svgToPng(svg));
      written.push(path);
    }
  }
  return written;
}
