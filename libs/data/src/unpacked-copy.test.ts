import { mkdirSync, readdirSync, readFileSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadDataset } from './load-dataset.js';
import { cacheDirFor } from './locate.js';
import { fixtureFiles, tempDir, writeFixtureDataset } from './testing/idx-fixtures.js';

/** A gzipped fixture set under --data and a home of its own, so the copies land in a temp cache. */
function place(pixelSeed = 0): { load: () => ReturnType<typeof loadDataset>; dataDir: string; unpacked: string } {
  const root = tempDir('unpacked');
  const dataDir = writeFixtureDataset(join(root, 'data'), 3, 2, { pixelSeed });
  const roots = { env: {}, homeDir: join(root, 'home'), systemDirs: [] };
  return {
    load: () => loadDataset({ name: 'fashion-mnist', dataDir, roots, download: false }),
    dataDir,
    unpacked: join(cacheDirFor('fashion-mnist', roots), 'unpacked'),
  };
}

const copyOf = (dir: string, name: string): string => join(dir, readdirSync(dir).find((f) => f.startsWith(`${name}.`))!);

describe('the unpacked copies of gzipped IDX files', () => {
  it('keeps each file inflated on the first load, with the bytes gunzip gives', async () => {
    const { load, unpacked } = place();
    const first = await load();
    const expected = fixtureFiles(3, 2);
    expect(
      readdirSync(unpacked)
        .map((f) => f.replace(/\.[0-9a-f]{16}$/, ''))
        .sort(),
    ).toEqual(Object.keys(expected).sort());
    for (const [name, bytes] of Object.entries(expected)) expect(readFileSync(copyOf(unpacked, name))).toEqual(Buffer.from(bytes));
    expect(first.train.images[784]).toBe(1);
  });

  it('reads the copy on the next load instead of the source', async () => {
    const { load, unpacked } = place();
    await load();
    // A copy with other pixels under the same key: what the next load returns says which it read.
    writeFileSync(copyOf(unpacked, 'train-images-idx3-ubyte'), fixtureFiles(3, 2, 100)['train-images-idx3-ubyte']);
    expect((await load()).train.images[784]).toBe(101);
  });

  it('never serves the copy of a source that changed since, and keeps one copy per file name', async () => {
    const { load, unpacked, dataDir } = place();
    await load();
    writeFileSync(copyOf(unpacked, 'train-images-idx3-ubyte'), fixtureFiles(3, 2, 100)['train-images-idx3-ubyte']);
    const later = new Date(Date.now() + 5_000);
    utimesSync(join(dataDir, 'train-images-idx3-ubyte.gz'), later, later);
    expect((await load()).train.images[784]).toBe(1);
    expect(readdirSync(unpacked).filter((f) => f.startsWith('train-images-idx3-ubyte.'))).toHaveLength(1);
    expect(readFileSync(copyOf(unpacked, 'train-images-idx3-ubyte'))).toEqual(Buffer.from(fixtureFiles(3, 2)['train-images-idx3-ubyte']));
  });

  it('inflates the source again when the copy is damaged, and replaces the copy', async () => {
    const { load, unpacked } = place();
    await load();
    const copy = copyOf(unpacked, 'train-images-idx3-ubyte');
    writeFileSync(copy, readFileSync(copy).subarray(0, 100));
    expect((await load()).train.images[784]).toBe(1);
    expect(readFileSync(copy)).toEqual(Buffer.from(fixtureFiles(3, 2)['train-images-idx3-ubyte']));
  });

  it('loads from the source when the cache cannot be written', async () => {
    const { load, unpacked } = place();
    // A file where the cache folder should be: mkdir fails, the load does not.
    const cacheRoot = join(unpacked, '..', '..', '..');
    mkdirSync(cacheRoot, { recursive: true });
    writeFileSync(join(cacheRoot, 'dptrain'), 'not a folder');
    expect((await load()).train.images[784]).toBe(1);
  });
});
