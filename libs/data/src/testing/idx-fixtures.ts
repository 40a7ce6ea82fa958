import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { encodeIdx } from '../idx.js';

/** A fresh empty directory under the system temp dir. */
export function tempDir(label: string): string {
  return mkdtempSync(join(tmpdir(), `dptrain-data-${label}-`));
}

/** The four files of a tiny 28 × 28 IDX data set: sample i has label i mod 10 and every pixel = (i + pixelSeed) mod 256. */
export function fixtureFiles(train: number, test: number, pixelSeed = 0): Record<string, Uint8Array> {
  const split = (count: number): { images: Uint8Array; labels: Uint8Array } => {
    const images = new Uint8Array(count * 784);
    const labels = new Uint8Array(count);
    for (let i = 0; i < count; i++) {
      images.fill((i + pixelSeed) % 256, i * 784, (i + 1) * 784);
      labels[i] = i % 10;
    }
    return { images, labels };
  };
  const a = split(train);
  const b = split(test);
  return {
    'train-images-idx3-ubyte': encodeIdx([train, 28, 28], a.images),
    'train-labels-idx1-ubyte': encodeIdx([train], a.labels),
    't10k-images-idx3-ubyte': encodeIdx([test, 28, 28], b.images),
    't10k-labels-idx1-ubyte': encodeIdx([test], b.labels),
  };
}

/** Writes `fixtureFiles(...)` into `dir` (created), gzipped with `.gz` names unless `gzip` is false. */
export function writeFixtureDataset(dir: string, train: number, test: number, options: { gzip?: boolean; pixelSeed?: number } = {}): string {
  mkdirSync(dir, { recursive: true });
  for (const [name, bytes] of Object.entries(fixtureFiles(train, test, options.pixelSeed))) {
    if (options.gzip === false) writeFileSync(join(dir, name), bytes);
    else writeFileSync(join(dir, `${name}.gz`), gzipSync(bytes));
  }
  return dir;
}
