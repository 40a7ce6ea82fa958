/**
 * A small well-formedness check for the reports' SVG files (no XML parser is a dependency):
 * every tag is closed in order, attributes are quoted, text has no stray `<` or bare `&`.
 * Returns the text of the `<text>` elements (axis titles, legend labels) for the series checks.
 */
export function parseSvg(svg: string): { root: string; texts: string[] } {
  const stack: string[] = [];
  const texts: string[] = [];
  let root = '';
  let last = 0;
  let inText = false;
  const tag = /<[^<>]*>/g;
  for (let match = tag.exec(svg); match !== null; match = tag.exec(svg)) {
    const between = svg.slice(last, match.index);
    if (between.includes('<') || /&(?!(amp|lt|gt|quot|apos|#\d+|#x[\da-fA-F]+);)/.test(between))
      throw new Error(`malformed text before offset ${match.index}: ${between.slice(0, 40)}`);
    if (inText) texts.push(between);
    last = match.index + match[0].length;
    const t = match[0];
    if (t.startsWith('<?') || t.startsWith('<!')) continue;
    const closing = /^<\/([\w:.-]+)\s*>$/.exec(t);
    if (closing) {
      const open = stack.pop();
      if (open !== closing[1]) throw new Error(`</${closing[1]}> closes <${open}> at offset ${match.index}`);
      inText = false;
      continue;
    }
    const opening = /^<([\w:.-]+)((?:\s+[\w:.-]+\s*=\s*(?:"[^"]*"|'[^']*'))*)\s*(\/?)>$/.exec(t);
    if (!opening) throw new Error(`malformed tag at offset ${match.index}: ${t.slice(0, 60)}`);
    if (stack.length === 0) {
      if (root !== '') throw new Error(`a second root <${opening[1]}>`);
      root = opening[1]!;
    }
    if (opening[3] !== '/') stack.push(opening[1]!);
    inText = opening[1] === 'text' && opening[3] !== '/';
  }
  if (stack.length > 0) throw new Error(`unclosed <${stack.join('>, <')}>`);
  if (svg.slice(last).trim() !== '') throw new Error('text after the root element');
  return { root, texts };
}

/** The rows of the first Markdown table after `heading` (or the first table), as header → cell. */
export function markdownRows(markdown: string, after = ''): Record<string, string>[] {
  const lines = markdown.slice(markdown.indexOf(after)).split('\n');
  const start = lines.findIndex((l) => l.startsWith('| '));
  const cells = (line: string): string[] =>
    line
      .slice(2, -2)
      .split(/(?<!\\) \| /)
      .map((c) => c.replace(/\\\|/g, '|'));
  const headers = cells(lines[start]!);
  const rows: Record<string, string>[] = [];
  for (let i = start + 2; i < lines.length && lines[i]!.startsWith('| '); i++) {
    const values = cells(lines[i]!);
    rows.push(Object.fromEntries(headers.map((h, j) => [h, values[j]!])));
  }
  return rows;
}

/** A table cell as results.json holds it: "—" is null, yes/no are booleans, numbers are numbers. */
export function cellValue(cell: string): string | number | boolean | null {
  if (cell === '—') return null;
  if (cell === 'yes' || cell === 'no') return cell === 'yes';
  return cell !== '' && Number.isFinite(Number(cell)) ? Number(cell) : cell;
}
