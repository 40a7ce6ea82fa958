import { Resvg } from '@resvg/resvg-js';

/** PNGs have twice the SVG's size, so their text stays sharp on high-density screens and when zoomed. */
export const PNG_ZOOM = 2;

/**
 * An SVG document (a plot) as a PNG image of PNG_ZOOM times its size, on white, with the
 * machine's fonts (resvg: no browser, no canvas, no native build at install).
 */
export function svgToPng(svg: string): Buffer {
  return new Resvg(svg, { background: 'white', fitTo: { mode: 'zoom', value: PNG_ZOOM }, font: { loadSystemFonts: true } }).render().asPng();
}
