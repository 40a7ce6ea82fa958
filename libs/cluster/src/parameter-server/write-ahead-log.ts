import { closeSync, openSync, readSync, fstatSync, writevSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import { withCode } from '@dptrain/errors';

/** One optimizer update as it is logged (before the coordinator hears of it). */
export interface WalRecord {
  /** The shard's version the update was applied to (it produces version + 1). */
  readonly version: number;
  readonly step: number;
  readonly microBatchIds: readonly number[];
  /** The loss each micro-batch's push carried, in `microBatchIds` order. */
  readonly losses: readonly number[];
  /** Async: the version the gradient was computed on (its staleness is version − pushedVersion). */
  readonly pushedVersion?: number;
  /** The gradient exactly as passed to `UpdateRule.apply` (sync: summed and scaled; before clipping). */
  readonly grad: Float32Array;
  /** The batch-norm moments folded into the running statistics (shard 0 of a batch-norm model). */
  readonly moments?: readonly { readonly count: number; readonly mean: Float64Array; readonly variance: Float64Array }[];
}

interface RecordHeader {
  readonly version: number;
  readonly step: number;
  readonly microBatchIds: number[];
  readonly losses: number[];
  readonly pushedVersion?: number;
  readonly gradLength: number;
  readonly moments?: { count: number; channels: number }[];
}

interface FileHeader {
  readonly format: string;
  readonly fingerprint: string;
  readonly start: number;
}

const FORMAT = 'dptrain-shard-wal/1';
const NAME = /^wal-(\d+)\.log$/;
/** Frame: u32 payload length, u32 crc32 of the payload, payload (all little-endian). */
const FRAME = 8;

export function walName(startVersion: number): string {
  return `wal-${String(startVersion).padStart(12, '0')}.log`;
}

/** Log files of `dir`, lowest start version first. */
export async function listWalFiles(dir: string): Promise<{ start: number; name: string }[]> {
  const names = await readdir(dir).catch((error: NodeJS.ErrnoException) => (error.code === 'ENOENT' ? [] : Promise.reject(error)));
  return names
    .map((name) => ({ name, match: NAME.exec(name) }))
    .filter((e) => e.match)
    .map((e) => ({ start: Number(e.match![1]), name: e.name }))
    .sort((a, b) => a.start - b.start);
}

function bytesOf(a: ArrayBufferView): Uint8Array {
  return new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
}

/**
 * An open log file: one length-prefixed, crc32-checked record per update. Appends are written to
 * the kernel before `append` returns (so they survive the process being killed) but not fsynced:
 * a power loss can lose the records since the last checkpoint.
 */
export class WalWriter {
  private fd: number | undefined;

  private constructor(
    readonly path: string,
    readonly start: number,
  ) {
    // 'w': a file of the same name holds no record this shard still needs (see restore).
    this.fd = openSync(path, 'w');
  }

  /** Creates `dir`/wal-<start>.log, replacing a file of that name, and writes its header. */
  static create(dir: string, start: number, fingerprint: string): WalWriter {
    const writer = new WalWriter(join(dir, walName(start)), start);
    writer.frame([Buffer.from(JSON.stringify({ format: FORMAT, fingerprint, start } satisfies FileHeader))]);
    return writer;
  }

  /** Appends one record. @returns the bytes written */
  append(record: WalRecord): number {
    const header: RecordHeader = {
      version: record.version,
      step: record.step,
      microBatchIds: [...record.microBatchIds],
      losses: [...record.losses],
      ...(record.pushedVersion !== undefined ? { pushedVersion: record.pushedVersion } : {}),
      gradLength: record.grad.length,
      ...(record.moments ? { moments: record.moments.map((m) => ({ count: m.count, channels: m.mean.length })) } : {}),
    };
    const json = Buffer.from(JSON.stringify(header));
    const jsonLength = Buffer.alloc(4);
    jsonLength.writeUInt32LE(json.length);
    const parts: Uint8Array[] = [jsonLength, json, bytesOf(record.grad)];
    for (const m of record.moments ?? []) parts.push(bytesOf(m.mean), bytesOf(m.variance));
    return this.frame(parts);
  }

  close(): void {
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
  }

  private frame(payload: Uint8Array[]): number {
    if (this.fd === undefined) throw new Error(`write-ahead log ${this.path} is closed; open a new one`);
    let length = 0;
    let crc = 0;
    for (const part of payload) {
      length += part.byteLength;
      crc = crc32(part, crc);
    }
    const prefix = Buffer.alloc(FRAME);
    prefix.writeUInt32LE(length, 0);
    prefix.writeUInt32LE(crc, 4);
    let parts: Uint8Array[] = [prefix, ...payload];
    let left = FRAME + length;
    // writev may write less than asked; continue from where it stopped.
    while (left > 0) {
      let written = writevSync(this.fd, parts);
      left -= written;
      const rest: Uint8Array[] = [];
      for (const part of parts) {
        if (written >= part.byteLength) written -= part.byteLength;
        else {
          rest.push(part.subarray(written));
          written = 0;
        }
      }
      parts = rest;
    }
    return FRAME + length;
  }
}

/** How reading a log file ended. */
export interface WalEnd {
  /** Valid bytes of the file. */
  readonly validBytes: number;
  /** Set when bytes after `validBytes` were ignored: a torn or corrupt record. */
  readonly torn?: { readonly ignoredBytes: number; readonly reason: string };
}

/** Why a log file cannot be used at all; the reader logs it and goes on without the file. */
export class WalRejected extends withCode('E_WAL_REJECTED') {}

/**
 * Reads a log file record by record (one record in memory at a time). A torn tail — a record cut
 * short by a crash, or one whose crc32 does not match — ends the file: `end()` says where.
 * @throws WalRejected when the file header is unreadable or carries another job's fingerprint
 */
export class WalReader {
  private readonly fd: number;
  private readonly size: number;
  private at = 0;
  private ending: WalEnd | undefined;
  readonly start: number;

  constructor(
    readonly path: string,
    fingerprint: string,
  ) {
    this.fd = openSync(path, 'r');
    this.size = fstatSync(this.fd).size;
    const first = this.next();
    let header: Partial<FileHeader> = {};
    try {
      header = first ? (JSON.parse(Buffer.from(first).toString('utf8')) as FileHeader) : {};
    } catch {
      // reported below as a missing header
    }
    if (header.format !== FORMAT || typeof header.start !== 'number') {
      this.close();
      throw new WalRejected(first ? `no ${FORMAT} header` : 'empty or torn header');
    }
    if (header.fingerprint !== fingerprint) {
      this.close();
      throw new WalRejected(
        `job fingerprint ${String(header.fingerprint).slice(0, 12)}… is not this shard's ${fingerprint.slice(0, 12)}… (another job, shard or sharding)`,
      );
    }
    this.start = header.start;
  }

  /** The next record, or undefined at the end of the valid part. */
  read(): WalRecord | undefined {
    const payload = this.next();
    if (!payload) return undefined;
    const view = Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength);
    const jsonLength = view.readUInt32LE(0);
    const header = JSON.parse(view.subarray(4, 4 + jsonLength).toString('utf8')) as RecordHeader;
    let at = 4 + jsonLength;
    // Copies: the payload is not aligned for typed-array views.
    const take = <T extends Float32Array | Float64Array>(out: T): T => {
      bytesOf(out).set(payload.subarray(at, at + out.byteLength));
      at += out.byteLength;
      return out;
    };
    const grad = take(new Float32Array(header.gradLength));
    const moments = header.moments?.map((m) => ({ count: m.count, mean: take(new Float64Array(m.channels)), variance: take(new Float64Array(m.channels)) }));
    return {
      version: header.version,
      step: header.step,
      microBatchIds: header.microBatchIds,
      losses: header.losses,
      ...(header.pushedVersion !== undefined ? { pushedVersion: header.pushedVersion } : {}),
      grad,
      ...(moments ? { moments } : {}),
    };
  }

  /** Where the valid part ended (after `read()` returned undefined). */
  end(): WalEnd {
    return this.ending ?? { validBytes: this.at };
  }

  close(): void {
    closeSync(this.fd);
  }

  private next(): Uint8Array | undefined {
    if (this.ending) return undefined;
    const left = this.size - this.at;
    if (left === 0) {
      this.ending = { validBytes: this.at };
      return undefined;
    }
    const stop = (reason: string): undefined => {
      this.ending = { validBytes: this.at, torn: { ignoredBytes: left, reason } };
      return undefined;
    };
    if (left < FRAME) return stop(`${left} bytes, shorter than a record's 8-byte frame`);
    const prefix = Buffer.alloc(FRAME);
    readFully(this.fd, prefix, this.at);
    const length = prefix.readUInt32LE(0);
    if (length > left - FRAME) return stop(`record of ${length} bytes cut short: ${left - FRAME} left in the file`);
    const payload = new Uint8Array(length);
    readFully(this.fd, payload, this.at + FRAME);
    if (crc32(payload) !== prefix.readUInt32LE(4)) return stop('crc32 mismatch');
    this.at += FRAME + length;
    return payload;
  }
}

function readFully(fd: number, into: Uint8Array, position: number): void {
  for (let done = 0; done < into.byteLength; ) {
    const n = readSync(fd, into, done, into.byteLength - done, position + done);
    if (n === 0) throw new Error(`write-ahead log ended while reading ${into.byteLength} bytes at ${position}`);
    done += n;
  }
}
