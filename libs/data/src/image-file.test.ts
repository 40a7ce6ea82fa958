import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { PNG } from 'pngjs';
import { describe, expect, it } from 'vitest';
import { datasetFormat } from './dataset-format.js';
import { encodeIdx } from './idx.js';
import { readImageFile } from './image-file.js';
import { failure } from './testing/data-error-of.js';
import { tempDir } from './testing/idx-fixtures.js';

const SIZE = { rows: 2, cols: 3 };

/** A 3×2 PNG of the given colour type from 8-bit RGBA pixels (pngjs takes 16-bit input for 16 bits). */
function png(rgba: number[], options: { colorType: 0 | 2 | 4 | 6; bitDepth?: 8 | 16; width?: number; height?: number }): Buffer {
  const image = new PNG({ width: options.width ?? 3, height: options.height ?? 2 });
  image.data = options.bitDepth === 16 ? Buffer.from(Uint16Array.from(rgba, (v) => v * 257).buffer) : Buffer.from(rgba);
  return PNG.sync.write(image, { colorType: options.colorType, bitDepth: options.bitDepth ?? 8, inputColorType: 6, inputHasAlpha: true });
}

const gray = (values: number[]): number[] => values.flatMap((v) => [v, v, v, 255]);
const PIXELS = [0, 17, 128, 200, 254, 255];

describe('readImageFile', () => {
  const dir = tempDir('images');
  const write = (name: string, bytes: Uint8Array): string => {
    const path = join(dir, name);
    writeFileSync(path, bytes);
    return path;
  };

  it('a grayscale PNG (8 or 16 bits) keeps its bytes, as do gray pixels of an RGB(A) PNG', async () => {
    for (const [name, options] of [
      ['gray8.png', { colorType: 0 }],
      ['gray16.png', { colorType: 0, bitDepth: 16 }],
      ['gray-alpha.png', { colorType: 4 }],
      ['rgb.png', { colorType: 2 }],
      ['rgba.png', { colorType: 6 }],
    ] as const) {
      const image = await readImageFile(write(name, png(gray(PIXELS), options)), SIZE);
      expect(image, name).toEqual({ format: 'png', images: Uint8Array.from(PIXELS), count: 1, rows: 2, cols: 3 });
    }
  });

  it('colours become BT.601 luma, composited over black by their alpha', async () => {
    // Pure red, green, blue, white at half alpha, yellow, a transparent white pixel.
    const rgba = [255, 0, 0, 255, 0, 255, 0, 255, 0, 0, 255, 255, 255, 255, 255, 128, 255, 255, 0, 255, 255, 255, 255, 0];
    const image = await readImageFile(write('colour.png', png(rgba, { colorType: 6 })), SIZE);
    // 0.299·255 = 76.2, 0.587·255 = 149.7, 0.114·255 = 29.1, 255·128/255 = 128, (0.299 + 0.587)·255 = 225.9.
    expect([...image.images]).toEqual([76, 150, 29, 128, 226, 0]);
  });

  it('an IDX image file, gzipped or not, gives all its images', async () => {
    const data = Uint8Array.from({ length: 4 * 6 }, (_, i) => i * 10);
    for (const [name, bytes] of [
      ['images-idx3-ubyte', encodeIdx([4, 2, 3], data)],
      ['images-idx3-ubyte.gz', gzipSync(encodeIdx([4, 2, 3], data))],
    ] as const) {
      expect(await readImageFile(write(name, bytes), SIZE)).toEqual({ format: 'idx', images: data, count: 4, rows: 2, cols: 3 });
    }
  });

  it('E_IMAGE_SIZE names the file, its size and the size the model takes', async () => {
    const big = await failure(readImageFile(write('big.png', png(gray([...PIXELS, ...PIXELS]), { colorType: 0, height: 4 })), SIZE));
    expect(big.code).toBe('E_IMAGE_SIZE');
    expect(big.message).toBe(`${join(dir, 'big.png')} is 3×4 pixels but the model takes 3×2 images; resize it to 3×2`);
    const idx = await failure(readImageFile(write('wide-idx3-ubyte', encodeIdx([1, 2, 4], new Uint8Array(8))), SIZE));
    expect(idx.code).toBe('E_IMAGE_SIZE');
    expect(idx.message).toContain('holds images of 4×2 pixels but the model takes 3×2 images');
  });

  it('E_IMAGE_MISSING for a path that is not a file', async () => {
    const error = await failure(readImageFile(join(dir, 'nope.png'), SIZE));
    expect([error.code, error.message]).toEqual([
      'E_IMAGE_MISSING',
      `${join(dir, 'nope.png')} does not exist; give the path of a PNG image or of an IDX image file`,
    ]);
    expect((await failure(readImageFile(dir, SIZE))).code).toBe('E_IMAGE_MISSING');
  });

  it('E_IMAGE_FORMAT for a file that is neither, a label file, or a broken PNG', async () => {
    for (const [name, bytes] of [
      ['photo.jpg', Uint8Array.of(0xff, 0xd8, 0xff, 0xe0, 0, 16, 0x4a, 0x46, 0x49, 0x46)],
      ['labels-idx1-ubyte', encodeIdx([3], Uint8Array.of(1, 2, 3))],
      ['broken.png', png(gray(PIXELS), { colorType: 0 }).subarray(0, 40)],
    ] as const) {
      const error = await failure(readImageFile(write(name, bytes), SIZE));
      expect(error.code, name).toBe('E_IMAGE_FORMAT');
      expect(error.message, name).toContain(join(dir, name));
    }
  });
});

describe('datasetFormat', () => {
  it('knows each data set without loading it; only the real ones name their classes', () => {
    expect(datasetFormat('fashion-mnist')).toMatchObject({ inputShape: [28, 28, 1], numClasses: 10 });
    expect(datasetFormat('fashion-mnist').classNames).toEqual([
      'T-shirt/top',
      'Trouser',
      'Pullover',
      'Dress',
      'Coat',
      'Sandal',
      'Shirt',
      'Sneaker',
      'Bag',
      'Ankle boot',
    ]);
    expect(datasetFormat('mnist').classNames).toEqual(['0', '1', '2', '3', '4', '5', '6', '7', '8', '9']);
    expect(datasetFormat('synthetic')).toEqual({ inputShape: [28, 28, 1], numClasses: 10, classNames: undefined });
  });
});
