import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { DataError } from './data-error.js';
import { encodeIdx, parseIdx, readIdxFile } from './idx.js';
import { readIdxSplit } from './read-idx-split.js';
import { fixtureFiles, tempDir } from './testing/idx-fixtures.js';
import { failure } from './testing/data-error-of.js';

// Hand-written IDX files. Labels: magic 00 00 08 01 (ubyte, 1 dim), size 3, then 7 8 9.
const LABELS = Uint8Array.of(0, 0, 8, 1, 0, 0, 0, 3, 7, 8, 9);
// Images: magic 00 00 08 03, sizes 2 × 1 × 2 (big-endian), then the 4 pixels.
const IMAGES = Uint8Array.of(0, 0, 8, 3, 0, 0, 0, 2, 0, 0, 0, 1, 0, 0, 0, 2, 10, 20, 30, 40);

const syncFailure = (fn: () => unknown): Promise<DataError> => failure(Promise.resolve().then(fn));

describe('parseIdx', () => {
  it('reads dimensions and data of hand-written files', () => {
    expect(parseIdx(LABELS, 'labels', 1)).toEqual({ dims: [3], data: Uint8Array.of(7, 8, 9) });
    expect(parseIdx(IMAGES, 'images', 3)).toEqual({ dims: [2, 1, 2], data: Uint8Array.of(10, 20, 30, 40) });
  });

  it('encodeIdx writes exactly those bytes', () => {
    expect(encodeIdx([3], Uint8Array.of(7, 8, 9))).toEqual(LABELS);
    expect(encodeIdx([2, 1, 2], Uint8Array.of(10, 20, 30, 40))).toEqual(IMAGES);
    expect(() => encodeIdx([2, 2], Uint8Array.of(1))).toThrow(RangeError);
  });

  it('E_IDX_BAD_MAGIC: a label file read as images, a float file, random bytes; naming the file and both magic numbers', async () => {
    const asImages = await syncFailure(() => parseIdx(LABELS, '/data/train-images-idx3-ubyte', 3));
    expect(asImages.code).toBe('E_IDX_BAD_MAGIC');
    expect(asImages.path).toBe('/data/train-images-idx3-ubyte');
    expect(asImages.message).toContain(
      '/data/train-images-idx3-ubyte: IDX magic number is 0x00000801 (unsigned bytes, 1 dimension), expected 0x00000803 (unsigned bytes, 3 dimensions)',
    );
    const floats = await syncFailure(() => parseIdx(Uint8Array.of(0, 0, 0x0d, 1, 0, 0, 0, 0), 'f', 1));
    expect(floats.message).toContain('0x00000d01 (float32, 1 dimension)');
    const html = await syncFailure(() => parseIdx(new TextEncoder().encode('<html>not found</html>'), 'h', 1));
    expect([html.code, html.message.includes('not an IDX file')]).toEqual(['E_IDX_BAD_MAGIC', true]);
  });

  it('E_IDX_TRUNCATED: short header, short data; E_IDX_TRAILING_DATA: extra bytes', async () => {
    expect((await syncFailure(() => parseIdx(LABELS.subarray(0, 3), 'a', 1))).code).toBe('E_IDX_TRUNCATED');
    expect((await syncFailure(() => parseIdx(IMAGES.subarray(0, 10), 'b', 3))).message).toContain('the IDX header alone needs 16');
    const short = await syncFailure(() => parseIdx(LABELS.subarray(0, 10), 'c', 1));
    expect([short.code, short.message]).toEqual(['E_IDX_TRUNCATED', expect.stringContaining('c: header announces 3 = 3 bytes of data but only 2 follow')]);
    const long = await syncFailure(() => parseIdx(Uint8Array.of(...LABELS, 0), 'd', 1));
    expect([long.code, long.message]).toEqual(['E_IDX_TRAILING_DATA', expect.stringContaining('but 4 follow')]);
  });
});

describe('readIdxFile', () => {
  it('reads plain and gzipped files alike, recognising gzip by its magic bytes', async () => {
    const dir = tempDir('idx');
    writeFileSync(join(dir, 'plain'), IMAGES);
    writeFileSync(join(dir, 'zipped'), gzipSync(IMAGES));
    expect(await readIdxFile(join(dir, 'plain'), 3)).toEqual(await readIdxFile(join(dir, 'zipped'), 3));
    expect((await readIdxFile(join(dir, 'zipped'), 3)).data).toEqual(Uint8Array.of(10, 20, 30, 40));
  });

  it('a cut gzip stream is E_IDX_TRUNCATED, a damaged one E_IDX_BAD_GZIP, both naming the file', async () => {
    const dir = tempDir('idx');
    const zipped = gzipSync(fixtureFiles(5, 1)['train-images-idx3-ubyte']);
    writeFileSync(join(dir, 'cut.gz'), zipped.subarray(0, zipped.length - 20));
    const damaged = Buffer.from(zipped);
    damaged[damaged.length - 6] ^= 0xff; // inside the CRC-32 trailer
    writeFileSync(join(dir, 'damaged.gz'), damaged);
    const cut = await failure(readIdxFile(join(dir, 'cut.gz'), 3));
    expect([cut.code, cut.path, cut.message.startsWith(`${join(dir, 'cut.gz')}: the gzip stream ends early`)]).toEqual([
      'E_IDX_TRUNCATED',
      join(dir, 'cut.gz'),
      true,
    ]);
    const bad = await failure(readIdxFile(join(dir, 'damaged.gz'), 3));
    expect([bad.code, bad.path]).toEqual(['E_IDX_BAD_GZIP', join(dir, 'damaged.gz')]);
  });
});

describe('readIdxSplit', () => {
  const format = { rows: 28, cols: 28, numClasses: 10 };
  const write = (dir: string, name: string, bytes: Uint8Array): string => {
    writeFileSync(join(dir, name), bytes);
    return join(dir, name);
  };

  it('pairs images and labels into a split', async () => {
    const dir = tempDir('split');
    const files = fixtureFiles(12, 1);
    const split = await readIdxSplit(write(dir, 'i', files['train-images-idx3-ubyte']), write(dir, 'l', files['train-labels-idx1-ubyte']), format);
    expect([split.count, split.features, split.images.length]).toEqual([12, 784, 12 * 784]);
    expect([...split.labels]).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1]);
    expect([split.images[0], split.images[783], split.images[784], split.images[11 * 784]]).toEqual([0, 0, 1, 11]);
  });

  it('E_IDX_MISMATCH when the counts differ, naming both files', async () => {
    const dir = tempDir('split');
    const images = write(dir, 'train-images', fixtureFiles(3, 1)['train-images-idx3-ubyte']);
    const labels = write(dir, 'train-labels', encodeIdx([2], Uint8Array.of(1, 2)));
    const error = await failure(readIdxSplit(images, labels, format));
    expect([error.code, error.message]).toEqual(['E_IDX_MISMATCH', expect.stringContaining(`${images} holds 3 images but ${labels} holds 2 labels`)]);
  });

  it('E_IDX_BAD_LABEL for a label ≥ numClasses, naming file, sample and value', async () => {
    const dir = tempDir('split');
    const images = write(dir, 'i', fixtureFiles(3, 1)['train-images-idx3-ubyte']);
    const labels = write(dir, 'l', encodeIdx([3], Uint8Array.of(9, 10, 0)));
    const error = await failure(readIdxSplit(images, labels, format));
    expect([error.code, error.path, error.message]).toEqual(['E_IDX_BAD_LABEL', labels, expect.stringContaining(`${labels}: label 10 at sample 1`)]);
  });

  it('E_IDX_BAD_SHAPE for images of another size', async () => {
    const dir = tempDir('split');
    const images = write(dir, 'i', encodeIdx([1, 27, 28], new Uint8Array(27 * 28)));
    const labels = write(dir, 'l', encodeIdx([1], Uint8Array.of(0)));
    const error = await failure(readIdxSplit(images, labels, format));
    expect([error.code, error.message]).toEqual(['E_IDX_BAD_SHAPE', expect.stringContaining("images are 27 × 28 pixels, this data set's are 28 × 28")]);
  });
});
