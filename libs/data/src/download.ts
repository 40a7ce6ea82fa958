import { createHash, randomBytes } from 'node:crypto';
import { mkdir, open, rename, rm } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import { basename, dirname } from 'node:path';
import { DataError } from './data-error.js';

/** One report on a file being downloaded. */
export interface DownloadProgress {
  /** File name being written (no directory). */
  readonly file: string;
  readonly url: string;
  /** Bytes received so far. */
  readonly received: number;
  /** Bytes announced by the server (Content-Length), if it said. */
  readonly total: number | undefined;
  /** Sent once, last, after the checksum matched and the file is in place. */
  readonly done: boolean;
}

export interface DownloadOptions {
  /** URLs of the same file, tried in order until one delivers bytes with the right checksum. */
  readonly urls: readonly string[];
  /** Final path; written only once the whole file has the expected SHA-256. */
  readonly dest: string;
  /** Expected SHA-256, lowercase hex. */
  readonly sha256: string;
  readonly onProgress?: (progress: DownloadProgress) => void;
  /** Abort an attempt when no byte arrives for this long. @default 30000 */
  readonly idleTimeoutMs?: number;
}

/** Why one URL did not give the file. */
export interface DownloadFailure {
  readonly url: string;
  readonly kind: 'network' | 'http' | 'checksum';
  readonly reason: string;
}

/**
 * Downloads one file so that `dest` either does not exist or holds exactly the published bytes:
 * the body streams into a temporary file beside `dest` while its SHA-256 is computed, and only a
 * matching file is renamed onto `dest` (atomic within one file system); anything else is deleted.
 *
 * @returns the URL that delivered the file.
 * @throws {DataError} E_DATA_CHECKSUM when a mirror delivered other bytes and none the right ones;
 *   E_DATA_DOWNLOAD (with `failures` in `cause`) when no mirror could be reached or all refused, or
 *   when the destination directory cannot be written.
 */
export async function downloadVerified(options: DownloadOptions): Promise<string> {
  const failures: DownloadFailure[] = [];
  try {
    await mkdir(dirname(options.dest), { recursive: true });
  } catch (error) {
    throw unwritable(options.dest, error);
  }
  for (const url of options.urls) {
    const failure = await attempt(url, options);
    if (failure === undefined) return url;
    failures.push(failure);
  }
  const file = basename(options.dest);
  const listing = failures.map((f) => `${f.url}: ${f.reason}`).join('; ') || 'no URL to fetch it from';
  if (failures.some((f) => f.kind === 'checksum')) {
    throw new DataError(
      'E_DATA_CHECKSUM',
      `${file}: downloaded bytes do not match the published SHA-256 ${options.sha256} (${listing}); nothing was kept. ` +
        'A proxy or a mirror serves other content: retry later, or fetch the file by other means and pass its folder with --data',
      { path: options.dest, cause: failures },
    );
  }
  throw new DataError('E_DATA_DOWNLOAD', `${file}: download failed (${listing})`, { path: options.dest, cause: failures });
}

async function attempt(url: string, options: DownloadOptions): Promise<DownloadFailure | undefined> {
  const file = basename(options.dest);
  const temp = `${options.dest}.${process.pid}.${randomBytes(4).toString('hex')}.part`;
  const idleMs = options.idleTimeoutMs ?? 30_000;
  const controller = new AbortController();
  const idle = setTimeout(() => controller.abort(new Error(`no data for ${idleMs} ms`)), idleMs);
  try {
    let response: Response;
    try {
      response = await fetch(url, { signal: controller.signal, redirect: 'follow' });
    } catch (error) {
      return { url, kind: 'network', reason: describeNetworkError(error) };
    }
    if (!response.ok || response.body === null) {
      await response.body?.cancel();
      return { url, kind: 'http', reason: `HTTP ${response.status} ${response.statusText}` };
    }
    const length = Number(response.headers.get('content-length'));
    const total = Number.isFinite(length) && length > 0 ? length : undefined;
    const hash = createHash('sha256');
    let out: FileHandle;
    try {
      out = await open(temp, 'w');
    } catch (error) {
      throw unwritable(options.dest, error);
    }
    let received = 0;
    try {
      for await (const chunk of response.body) {
        idle.refresh();
        hash.update(chunk);
        await out.write(chunk);
        received += chunk.byteLength;
        options.onProgress?.({ file, url, received, total, done: false });
      }
      await out.sync();
    } catch (error) {
      return { url, kind: 'network', reason: `transfer broke after ${received} bytes: ${describeNetworkError(error)}` };
    } finally {
      await out.close();
    }
    const digest = hash.digest('hex');
    if (digest !== options.sha256.toLowerCase()) {
      return { url, kind: 'checksum', reason: `SHA-256 ${digest} (${received} bytes), expected ${options.sha256}` };
    }
    await rename(temp, options.dest);
    options.onProgress?.({ file, url, received, total, done: true });
    return undefined;
  } finally {
    clearTimeout(idle);
    await rm(temp, { force: true });
  }
}

function unwritable(dest: string, error: unknown): DataError {
  const code = (error as NodeJS.ErrnoException).code ?? String(error);
  return new DataError(
    'E_DATA_DOWNLOAD',
    `cannot write ${dest} (${code}); point XDG_CACHE_HOME at a writable directory, or pass --data DIR with the files already in it`,
    { path: dest, cause: error },
  );
}

/** fetch wraps the useful part (ECONNREFUSED, ENOTFOUND, …) in `cause`. */
function describeNetworkError(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const cause = error.cause as { code?: string; message?: string } | undefined;
  if (cause?.code !== undefined) return `${error.message} (${cause.code})`;
  if (cause?.message !== undefined) return `${error.message} (${cause.message})`;
  return error.message;
}
