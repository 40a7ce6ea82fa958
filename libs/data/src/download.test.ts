import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gzipSync } from 'node:zlib';
import { afterEach, describe, expect, it } from 'vitest';
import { downloadVerified } from './download.js';
import type { DownloadProgress } from './download.js';
import { createDownloadReporter } from './download-reporter.js';
import { loadDataset } from './load-dataset.js';
import { refusingUrl, serveFiles } from './testing/file-server.js';
import type { FileServer } from './testing/file-server.js';
import { fixtureFiles, tempDir } from './testing/idx-fixtures.js';
import { failure } from './testing/data-error-of.js';

/** Progress reports are checked elsewhere; here they are dropped. */
const quiet = (): void => undefined;

const sha256 = (bytes: Uint8Array): string => createHash('sha256').update(bytes).digest('hex');

/** The fixture's four files gzipped under their published names, and their SHA-256 sums. */
function publishedFixture(train: number, test: number): { files: Record<string, Uint8Array>; checksums: Record<string, string> } {
  const files: Record<string, Uint8Array> = {};
  const checksums: Record<string, string> = {};
  for (const [name, bytes] of Object.entries(fixtureFiles(train, test))) {
    const zipped = gzipSync(bytes);
    files[`${name}.gz`] = zipped;
    checksums[`${name}.gz`] = sha256(zipped);
  }
  return { files, checksums };
}

const servers: FileServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

async function serve(files: Record<string, Uint8Array>, prefix = '/'): Promise<FileServer> {
  const server = await serveFiles(Object.fromEntries(Object.entries(files).map(([name, bytes]) => [prefix + name, bytes])));
  servers.push(server);
  return server;
}

describe('download into the cache', () => {
  it('fetches the four files once, checks them, reports progress, and reads the cache afterwards', async () => {
    const { files, checksums } = publishedFixture(20, 5);
    const server = await serve(files);
    const home = tempDir('download');
    const roots = { env: {}, homeDir: home, systemDirs: [] };
    const events: DownloadProgress[] = [];
    const dataset = await loadDataset({ name: 'fashion-mnist', roots, baseUrls: [server.baseUrl], checksums, onProgress: (p) => events.push(p) });
    const cache = join(home, '.cache', 'dptrain', 'fashion-mnist');
    expect(dataset).toMatchObject({ source: cache, train: { count: 20 }, test: { count: 5 } });
    // Beside the downloads, their inflated copies (unpacked-copy.ts).
    expect(readdirSync(cache).sort()).toEqual([...Object.keys(files), 'unpacked'].sort());
    for (const [name, bytes] of Object.entries(files)) expect(readFileSync(join(cache, name))).toEqual(Buffer.from(bytes));
    // Each file: the last report is `done` with every byte received, and earlier ones count up.
    for (const [name, bytes] of Object.entries(files)) {
      const mine = events.filter((e) => e.file === name);
      expect(mine.at(-1)).toEqual({ file: name, url: server.baseUrl + name, received: bytes.length, total: bytes.length, done: true });
      expect(mine.filter((e) => e.done)).toHaveLength(1);
      expect(mine.length).toBeGreaterThanOrEqual(2);
    }
    expect(server.requests.sort()).toEqual(
      Object.keys(files)
        .map((n) => `/${n}`)
        .sort(),
    );
    // Second load: found in the cache, no request.
    await loadDataset({ name: 'fashion-mnist', roots, baseUrls: [server.baseUrl], checksums, onProgress: quiet });
    expect(server.requests).toHaveLength(4);
  });

  it('on a checksum mismatch keeps nothing and says which file, what arrived and what was expected', async () => {
    const { files, checksums } = publishedFixture(4, 2);
    const server = await serve(files);
    const home = tempDir('checksum');
    const wrong = { ...checksums, 'train-images-idx3-ubyte.gz': '0'.repeat(64) };
    const error = await failure(
      loadDataset({
        name: 'fashion-mnist',
        roots: { env: {}, homeDir: home, systemDirs: [] },
        baseUrls: [server.baseUrl],
        checksums: wrong,
        onProgress: quiet,
      }),
    );
    const cache = join(home, '.cache', 'dptrain', 'fashion-mnist');
    expect([error.code, error.path]).toEqual(['E_DATA_CHECKSUM', join(cache, 'train-images-idx3-ubyte.gz')]);
    expect(error.message).toContain(
      `SHA-256 ${checksums['train-images-idx3-ubyte.gz']} (${files['train-images-idx3-ubyte.gz'].length} bytes), expected ${'0'.repeat(64)}`,
    );
    expect(error.message).toContain('nothing was kept');
    // Not the file, not a temporary; the files fetched before it are whole and verified.
    expect(readdirSync(cache).filter((name) => name.startsWith('train-images'))).toEqual([]);
    expect(readdirSync(cache).filter((name) => name.endsWith('.part'))).toEqual([]);
  });

  it('tries the mirrors in order: a 404 and a refused connection fall through to one that works', async () => {
    const { files, checksums } = publishedFixture(3, 1);
    const broken = await serve({});
    const good = await serve(files, '/mirror/');
    const dest = join(tempDir('mirrors'), 'sub', 't10k-labels-idx1-ubyte.gz');
    const url = await downloadVerified({
      urls: [`${broken.baseUrl}t10k-labels-idx1-ubyte.gz`, `${await refusingUrl()}x.gz`, `${good.baseUrl}mirror/t10k-labels-idx1-ubyte.gz`],
      dest,
      sha256: checksums['t10k-labels-idx1-ubyte.gz'],
    });
    expect(url).toBe(`${good.baseUrl}mirror/t10k-labels-idx1-ubyte.gz`);
    expect(readFileSync(dest)).toEqual(Buffer.from(files['t10k-labels-idx1-ubyte.gz']));
    expect(broken.requests).toEqual(['/t10k-labels-idx1-ubyte.gz']);
  });

  it('when every mirror fails without a checksum mismatch: E_DATA_DOWNLOAD listing each reason', async () => {
    const broken = await serve({});
    const dest = join(tempDir('fail'), 'f.gz');
    const error = await failure(downloadVerified({ urls: [`${broken.baseUrl}f.gz`], dest, sha256: '0'.repeat(64) }));
    expect([error.code, error.message]).toEqual(['E_DATA_DOWNLOAD', `f.gz: download failed (${broken.baseUrl}f.gz: HTTP 404 Not Found)`]);
    expect(readdirSync(join(dest, '..'))).toEqual([]);
  });

  it('gives up on a mirror that stalls mid-transfer and keeps nothing of it', async () => {
    const stalling = createServer((_, response) => {
      response.writeHead(200, { 'content-length': 100 });
      response.write(new Uint8Array(10));
    });
    await new Promise<void>((resolve) => stalling.listen(0, '127.0.0.1', resolve));
    try {
      const dest = join(tempDir('stall'), 'f.gz');
      const url = `http://127.0.0.1:${(stalling.address() as AddressInfo).port}/f.gz`;
      const error = await failure(downloadVerified({ urls: [url], dest, sha256: '0'.repeat(64), idleTimeoutMs: 1000 }));
      expect(error.code).toBe('E_DATA_DOWNLOAD');
      expect(error.message).toContain('transfer broke after 10 bytes');
      expect(error.message).toContain('no data for 1000 ms');
      expect(readdirSync(join(dest, '..'))).toEqual([]);
    } finally {
      stalling.closeAllConnections();
      await new Promise<void>((resolve) => stalling.close(() => resolve()));
    }
  });

  it('a cache that cannot be written is named in the not-found error, with the fix', async () => {
    const root = tempDir('unwritable');
    const notADirectory = join(root, 'home-is-a-file');
    writeFileSync(notADirectory, 'x');
    const server = await serve({});
    const error = await failure(loadDataset({ name: 'mnist', roots: { env: {}, homeDir: notADirectory }, baseUrls: [server.baseUrl], onProgress: quiet }));
    expect(error.code).toBe('E_DATA_NOT_FOUND');
    expect(error.message).toContain(
      `cannot write ${join(notADirectory, '.cache', 'dptrain', 'mnist', 'train-images-idx3-ubyte.gz')} (ENOTDIR); point XDG_CACHE_HOME at a writable directory`,
    );
    expect(server.requests).toEqual([]);
  });
});

describe('createDownloadReporter', () => {
  it('writes plain lines when the stream is not a terminal: start, quarters, done', () => {
    const lines: string[] = [];
    const report = createDownloadReporter({ write: (text: string) => lines.push(text), isTTY: false });
    const base = { file: 'a.gz', url: 'http://m/a.gz', total: 4_000_000, done: false };
    for (const received of [100, 1_000_000, 1_500_000, 2_100_000, 3_999_999]) report({ ...base, received });
    report({ ...base, received: 4_000_000, done: true });
    expect(lines).toEqual([
      'dptrain: downloading http://m/a.gz (4.0 MB)\n',
      'dptrain: a.gz 25%\n',
      'dptrain: a.gz 50%\n',
      'dptrain: a.gz 75%\n',
      'dptrain: downloaded a.gz, 4.0 MB, SHA-256 verified\n',
    ]);
  });

  it('draws a cli-progress bar on a terminal', () => {
    let output = '';
    const stream = {
      write: (text: string) => ((output += text), true),
      isTTY: true,
      columns: 80,
      cursorTo: () => true,
      clearLine: () => true,
      moveCursor: () => true,
      on: () => stream,
      removeListener: () => stream,
    };
    const report = createDownloadReporter(stream);
    report({ file: 'b.gz', url: 'u', received: 500_000, total: 1_000_000, done: false });
    report({ file: 'b.gz', url: 'u', received: 1_000_000, total: 1_000_000, done: true });
    expect(output).toContain('b.gz |');
    expect(output).toContain('100% 1.0/1.0 MB');
  });
});
