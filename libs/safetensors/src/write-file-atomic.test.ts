import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { isAtomicTempFile, writeFileAtomic } from './write-file-atomic.js';

describe('writeFileAtomic', () => {
  it('replaces the file and leaves no temporary behind', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'atomic-'));
    const path = join(dir, 'summary.json');
    writeFileSync(path, 'old');
    await writeFileAtomic(path, 'new contents');
    expect(readFileSync(path, 'utf8')).toBe('new contents');
    expect(readdirSync(dir)).toEqual(['summary.json']);
  });

  it('leaves the old file untouched when the directory is missing', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'atomic-'));
    await expect(writeFileAtomic(join(dir, 'missing', 'x'), 'data')).rejects.toMatchObject({ code: 'ENOENT' });
    expect(readdirSync(dir)).toEqual([]);
  });

  it('keeps the old file and removes the temporary one when an injected writer fails half-way', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'atomic-'));
    const path = join(dir, 'ckpt');
    writeFileSync(path, 'old');
    const seen: string[] = [];
    const stopped = new Error('stopped half-way');
    const write = async (file: import('node:fs/promises').FileHandle, data: Uint8Array | string, temp: string) => {
      await file.write(String(data).slice(0, 3));
      seen.push(readFileSync(temp, 'utf8'), temp);
      throw stopped;
    };
    await expect(writeFileAtomic(path, 'new contents', { write })).rejects.toBe(stopped);
    expect(seen[0]).toBe('new');
    expect(isAtomicTempFile(seen[1].slice(dir.length + 1))).toBe(true);
    expect(readFileSync(path, 'utf8')).toBe('old');
    expect(readdirSync(dir)).toEqual(['ckpt']);
  });
});
