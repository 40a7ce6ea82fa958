import { describe, expect, it } from 'vitest';
import { plotFormats } from './plot-files.js';

describe('plotFormats', () => {
  it('takes svg, png or both, each once', () => {
    expect(plotFormats('svg')).toEqual(['svg']);
    expect(plotFormats(' png , svg,png')).toEqual(['png', 'svg']);
  });

  it('refuses an unknown or empty format, naming the choices', () => {
    expect(() => plotFormats('svg,gif')).toThrow(/"gif" is not a plot format; give svg, png or both \(--format svg,png\)/);
    expect(() => plotFormats(' , ')).toThrow(/names no format/);
  });
});
