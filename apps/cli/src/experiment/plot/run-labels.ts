import { sep } from 'node:path';

/**
 * The legend label of each run folder: its name, or where two runs share a name, the shortest
 * tail of their paths that tells them apart (`a/run`, `b/run`). `paths` are resolved and distinct.
 */
export function runLabels(paths: readonly string[]): string[] {
  const parts = paths.map((p) => p.split(sep).filter((s) => s !== ''));
  return parts.map((mine, i) => {
    for (let n = 1; n < mine.length; n++) {
      const tail = mine.slice(-n).join('/');
      if (parts.every((other, j) => j === i || other.slice(-n).join('/') !== tail)) return tail;
    }
    return mine.join('/');
  });
}
