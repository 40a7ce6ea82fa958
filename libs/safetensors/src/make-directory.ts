import { mkdir, stat } from 'node:fs/promises';
import { dirname } from 'node:path';

/**
 * `mkdir -p dir` that reports the real cause. Node's recursive mkdir answers ENOENT where a parent
 * cannot be created (on a read-only file system, say); this then creates the missing levels one by
 * one from the deepest existing one, so the error is the one the file system gave (EROFS, EACCES,
 * ENOTDIR, ENOSPC) for the level it gave it.
 * @throws the file system's error
 */
export async function makeDirectory(dir: string): Promise<void> {
  try {
    await mkdir(dir, { recursive: true });
    return;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  const missing: string[] = [];
  for (let at = dir; ; at = dirname(at)) {
    if (
      await stat(at).then(
        () => true,
        () => false,
      )
    )
      break;
    missing.unshift(at);
    if (dirname(at) === at) break;
  }
  for (const level of missing) await mkdir(level);
}
