import { describe, expect, it } from 'vitest';
import { cellValue, markdownRows, parseSvg } from './svg.js';

describe('parseSvg (the helper the experiment tests rely on)', () => {
  it('accepts nested, self-closing and text elements and returns the texts', () => {
    expect(parseSvg('<svg a="1"><g><text x="0">sync &amp; async</text><path d="M0"/></g></svg>')).toEqual({ root: 'svg', texts: ['sync &amp; async'] });
  });

  it('refuses mismatched, unclosed, unquoted and stray markup', () => {
    expect(() => parseSvg('<svg><g></svg></g>')).toThrow(/closes <g>/);
    expect(() => parseSvg('<svg><g>')).toThrow(/unclosed <svg>, <g>/);
    expect(() => parseSvg('<svg a=1></svg>')).toThrow(/malformed tag/);
    expect(() => parseSvg('<svg><text>a & b</text></svg>')).toThrow(/malformed text/);
  });
});

describe('markdownRows', () => {
  it('reads a table after a heading into header → cell, escaped pipes kept', () => {
    const md = '# t\n| x | y |\n| --- | --- |\n| 0 | 0 |\n## B\n\n| a | b |\n| --- | --- |\n| 1 | p\\|q |\n| — | yes |\n';
    expect(markdownRows(md, '## B')).toEqual([
      { a: '1', b: 'p|q' },
      { a: '—', b: 'yes' },
    ]);
    expect(['1.5', '—', 'yes', 'sgd'].map(cellValue)).toEqual([1.5, null, true, 'sgd']);
  });
});
