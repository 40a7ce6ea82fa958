import { mkdtempSync, readFileSync, rmSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { WalReader, WalRejected, WalWriter, type WalRecord } from './write-ahead-log.js';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'wal-'));
  dirs.push(dir);
  return dir;
}

const FINGERPRINT = 'c'.repeat(64);

function recordOf(version: number, withMoments: boolean): WalRecord {
  return {
    version,
    step: version,
    microBatchIds: [0, 1, 2],
    losses: [0.1 * version, 0.2, Math.PI],
    grad: Float32Array.from({ length: 33 }, (_, i) => Math.cos(version + i) / 3),
    ...(withMoments ? { moments: [{ count: 6, mean: Float64Array.of(version / 3, -1 / 7), variance: Float64Array.of(1 / 9, 2 / 11) }] } : {}),
    ...(version % 2 === 1 ? { pushedVersion: version - 1 } : {}),
  };
}

function readAll(path: string): { records: WalRecord[]; reader: WalReader } {
  const reader = new WalReader(path, FINGERPRINT);
  const records: WalRecord[] = [];
  for (let r = reader.read(); r; r = reader.read()) records.push(r);
  reader.close();
  return { records, reader };
}

function written(dir: string, versions: number[]): { path: string; ends: number[] } {
  const writer = WalWriter.create(dir, versions[0], FINGERPRINT);
  const ends: number[] = [];
  for (const v of versions) {
    writer.append(recordOf(v, v % 3 === 0));
    ends.push(statSync(writer.path).size);
  }
  writer.close();
  return { path: writer.path, ends };
}

describe('write-ahead log', () => {
  it('reads back every record exactly as appended, the file header giving the start version', () => {
    const dir = tempDir();
    const { path } = written(dir, [5, 6, 7]);
    const { records, reader } = readAll(path);
    expect(reader.start).toBe(5);
    expect(records).toEqual([5, 6, 7].map((v) => recordOf(v, v % 3 === 0)));
    expect(reader.end()).toEqual({ validBytes: statSync(path).size });
  });

  it('ignores a torn tail: a record cut short by a crash ends the file after the last whole record', () => {
    const dir = tempDir();
    const { path, ends } = written(dir, [0, 1, 2]);
    truncateSync(path, ends[2] - 7);
    const { records, reader } = readAll(path);
    expect(records.map((r) => r.version)).toEqual([0, 1]);
    expect(reader.end()).toEqual({ validBytes: ends[1], torn: { ignoredBytes: ends[2] - 7 - ends[1], reason: expect.stringContaining('cut short') } });
    // Fewer bytes than a frame: torn too.
    truncateSync(path, ends[1] + 3);
    expect(readAll(path).reader.end().torn?.reason).toContain('shorter than');
  });

  it('stops at a record whose crc32 does not match', () => {
    const dir = tempDir();
    const { path, ends } = written(dir, [0, 1, 2]);
    const bytes = readFileSync(path);
    bytes[ends[0] + 40] ^= 0x10; // inside record 1's payload
    writeFileSync(path, bytes);
    const { records, reader } = readAll(path);
    expect(records.map((r) => r.version)).toEqual([0]);
    expect(reader.end()).toMatchObject({ validBytes: ends[0], torn: { reason: 'crc32 mismatch' } });
  });

  it('refuses a log of another job and one whose header is torn', () => {
    const dir = tempDir();
    const other = WalWriter.create(dir, 0, 'd'.repeat(64));
    other.close();
    expect(() => new WalReader(other.path, FINGERPRINT)).toThrow(WalRejected);
    expect(() => new WalReader(other.path, FINGERPRINT)).toThrow(/fingerprint dddddddddddd/);
    truncateSync(other.path, 5);
    expect(() => new WalReader(other.path, 'd'.repeat(64))).toThrow(/torn header/);
  });
});
