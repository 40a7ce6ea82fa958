import { execFileSync } from 'node:child_process';
import { mkdtempSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { makeDirectory } from './make-directory.js';

/** A read-only tmpfs mounted for the test, where this process may mount (root); else why not. */
function readOnlyMount(): { dir: string; unmount: () => void } | string {
  const dir = mkdtempSync(join(tmpdir(), 'read-only-'));
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'ro,size=64k', 'tmpfs', dir], { stdio: 'ignore' });
    return { dir, unmount: () => execFileSync('umount', [dir]) };
  } catch (error) {
    return `cannot mount a read-only tmpfs here (${(error as Error).message.split('\n')[0]})`;
  }
}

const readOnly = readOnlyMount();
afterAll(() => typeof readOnly !== 'string' && readOnly.unmount());
if (typeof readOnly === 'string') console.warn(`make-directory.test.ts: the read-only case is skipped: ${readOnly}`);

describe('makeDirectory', () => {
  it('creates every missing level, and is a no-op when the directory exists', async () => {
    const dir = join(mkdtempSync(join(tmpdir(), 'mkdir-')), 'a', 'b', 'c');
    await makeDirectory(dir);
    await makeDirectory(dir);
    expect(statSync(dir).isDirectory()).toBe(true);
  });

  it.skipIf(typeof readOnly === 'string')('names the real cause on a read-only file system: EROFS, where Node says ENOENT', async () => {
    const { dir } = readOnly as { dir: string };
    await expect(makeDirectory(join(dir, 'checkpoints', 'shard-0'))).rejects.toMatchObject({
      code: 'EROFS',
      message: expect.stringContaining(join(dir, 'checkpoints')),
    });
  });
});
