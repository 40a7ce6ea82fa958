import { existsSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DataError } from './data-error.js';
import { loadDataset, parseDatasetName } from './load-dataset.js';
import { cacheDirFor } from './locate.js';
import type { SearchRoots } from './locate.js';
import { refusingUrl } from './testing/file-server.js';
import { tempDir, writeFixtureDataset } from './testing/idx-fixtures.js';
import { failure } from './testing/data-error-of.js';

/** Progress reports are checked elsewhere; here they are dropped. */
const quiet = (): void => undefined;

/**
 * Four candidate places, each holding a fixture whose training-set size tells which one was read:
 * 11 = --data, 12 = DPTRAIN_DATA, 13 = cache, 14 = system package.
 */
function fourPlaces(): { dataDir: string; roots: SearchRoots; dirs: Record<'flag' | 'env' | 'cache' | 'system', string> } {
  const root = tempDir('search');
  const home = join(root, 'home');
  const dirs = {
    flag: writeFixtureDataset(join(root, 'flag'), 11, 2),
    env: writeFixtureDataset(join(root, 'env', 'fashion-mnist'), 12, 2),
    cache: writeFixtureDataset(join(home, '.cache', 'dptrain', 'fashion-mnist'), 13, 2, { gzip: false }),
    system: writeFixtureDataset(join(root, 'usr-share'), 14, 2),
  };
  return { dataDir: dirs.flag, dirs, roots: { env: { DPTRAIN_DATA: join(root, 'env') }, homeDir: home, systemDirs: [dirs.system] } };
}

describe('loadDataset search order', () => {
  it('--data beats DPTRAIN_DATA beats the cache beats the system package', async () => {
    const { dataDir, roots, dirs } = fourPlaces();
    const load = (withFlag: boolean): ReturnType<typeof loadDataset> =>
      loadDataset({ name: 'fashion-mnist', dataDir: withFlag ? dataDir : undefined, roots, download: false });
    expect(await load(true)).toMatchObject({ source: dirs.flag, train: { count: 11 }, test: { count: 2 } });
    expect(await load(false)).toMatchObject({ source: dirs.env, train: { count: 12 } });
    rmSync(dirs.env, { recursive: true });
    expect(await load(false)).toMatchObject({ source: dirs.cache, train: { count: 13 } });
    rmSync(dirs.cache, { recursive: true });
    expect(await load(false)).toMatchObject({ source: dirs.system, train: { count: 14 } });
  });

  it('looks in DIR/<name> before DIR itself, and skips a folder that lacks some files', async () => {
    const root = tempDir('nested');
    writeFixtureDataset(root, 5, 1);
    writeFixtureDataset(join(root, 'fashion-mnist'), 6, 1);
    const roots = { env: {}, homeDir: join(root, 'home'), systemDirs: [] };
    expect((await loadDataset({ name: 'fashion-mnist', dataDir: root, roots, download: false })).train.count).toBe(6);
    rmSync(join(root, 'fashion-mnist', 't10k-labels-idx1-ubyte.gz'));
    expect((await loadDataset({ name: 'fashion-mnist', dataDir: root, roots, download: false })).train.count).toBe(5);
  });

  it('builds a data set with the image shape and class names', async () => {
    const dir = writeFixtureDataset(tempDir('shape'), 3, 2);
    const dataset = await loadDataset({ name: 'fashion-mnist', dataDir: dir, roots: { env: {}, homeDir: dir, systemDirs: [] } });
    expect(dataset).toMatchObject({ name: 'fashion-mnist', inputShape: [28, 28, 1], numClasses: 10 });
    expect(dataset.classNames[9]).toBe('Ankle boot');
    expect([...dataset.test.labels]).toEqual([0, 1]);
  });

  it('caches under $XDG_CACHE_HOME when it is absolute, ~/.cache otherwise', () => {
    expect(cacheDirFor('mnist', { env: { XDG_CACHE_HOME: '/xdg' }, homeDir: '/home/u' })).toBe('/xdg/dptrain/mnist');
    expect(cacheDirFor('mnist', { env: { XDG_CACHE_HOME: 'relative' }, homeDir: '/home/u' })).toBe('/home/u/.cache/dptrain/mnist');
    expect(cacheDirFor('mnist', { env: {}, homeDir: '/home/u' })).toBe('/home/u/.cache/dptrain/mnist');
  });

  it('a damaged file where the search stops is an error, not a reason to look further', async () => {
    const { dataDir, roots, dirs } = fourPlaces();
    writeFileSync(join(dirs.flag, 'train-labels-idx1-ubyte.gz'), Uint8Array.of(0x1f, 0x8b, 8, 0));
    const error = await failure(loadDataset({ name: 'fashion-mnist', dataDir, roots, download: false }));
    expect([error.code, error.path]).toEqual(['E_IDX_TRUNCATED', join(dirs.flag, 'train-labels-idx1-ubyte.gz')]);
  });

  it('not found with downloading off: one error naming the apt package, the flag and the cache path', async () => {
    const root = tempDir('missing');
    const partial = writeFixtureDataset(join(root, 'partial'), 3, 1);
    rmSync(join(partial, 'train-images-idx3-ubyte.gz'));
    const roots = { env: {}, homeDir: join(root, 'home'), systemDirs: [join(root, 'nothing')] };
    const error = await failure(loadDataset({ name: 'fashion-mnist', dataDir: partial, roots, download: false }));
    const cache = join(root, 'home', '.cache', 'dptrain', 'fashion-mnist');
    expect([error.code, error.path]).toEqual(['E_DATA_NOT_FOUND', cache]);
    expect(error.message).toContain('apt-get install dataset-fashion-mnist');
    expect(error.message).toContain('--data DIR');
    expect(error.message).toContain(`copy those files into ${cache}`);
    expect(error.message).toContain(`${partial} (flag --data; lacks train-images-idx3-ubyte.gz)`);
    expect(error.message).toContain(`${join(root, 'nothing')} (system package)`);
  });

  it('offline: the failed download becomes the same not-found error, with the network cause', async () => {
    const root = tempDir('offline');
    const roots = { env: {}, homeDir: root, systemDirs: [] };
    const mirror = await refusingUrl();
    const error = await failure(loadDataset({ name: 'fashion-mnist', roots, baseUrls: [mirror], onProgress: quiet }));
    expect(error.code).toBe('E_DATA_NOT_FOUND');
    expect(error.message).toContain(`${mirror}train-images-idx3-ubyte.gz: fetch failed (ECONNREFUSED)`);
    expect(error.message).toContain('ECONNREFUSED');
    expect(error.message).toContain('apt-get install dataset-fashion-mnist');
    expect(error.cause).toBeInstanceOf(DataError);
    expect(existsSync(join(root, '.cache', 'dptrain', 'fashion-mnist', 'train-images-idx3-ubyte.gz'))).toBe(false);
  });

  it('MNIST has no system package, so its error offers only the flag and the cache', async () => {
    const root = tempDir('mnist');
    const error = await failure(loadDataset({ name: 'mnist', roots: { env: {}, homeDir: root }, download: false }));
    expect(error.message).not.toContain('apt-get');
    expect(error.message).toContain('--data DIR');
    expect(error.message).toMatch(/^MNIST not found/);
  });

  it('rejects an unknown data set name, listing the known ones', () => {
    expect(() => parseDatasetName('cifar10')).toThrow('unknown data set "cifar10"; use one of fashion-mnist, mnist, synthetic (flag --dataset)');
  });
});

const SYSTEM_DIR = '/usr/share/datasets/fashion-mnist';
const haveSystemCopy = existsSync(join(SYSTEM_DIR, 'train-images-idx3-ubyte.gz'));

describe('the installed Debian package', () => {
  it.skipIf(!haveSystemCopy)(
    `holds 60,000 + 10,000 images, 6,000 + 1,000 per class (skipped when ${SYSTEM_DIR} is absent: apt-get install dataset-fashion-mnist)`,
    async () => {
      const home = tempDir('real');
      const dataset = await loadDataset({ name: 'fashion-mnist', roots: { env: {}, homeDir: home }, download: false });
      expect(dataset.source).toBe(SYSTEM_DIR);
      expect([dataset.train.count, dataset.test.count, dataset.train.images.length]).toEqual([60000, 10000, 60000 * 784]);
      const perClass = (labels: Uint8Array): number[] => labels.reduce((counts, label) => (counts[label]++, counts), new Array<number>(10).fill(0));
      expect(perClass(dataset.train.labels)).toEqual(new Array(10).fill(6000));
      expect(perClass(dataset.test.labels)).toEqual(new Array(10).fill(1000));
      // The first training image is an ankle boot (class 9), as in the data set's README figure order.
      expect(dataset.train.labels[0]).toBe(9);
    },
  );
});
