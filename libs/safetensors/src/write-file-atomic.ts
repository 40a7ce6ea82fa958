import { open, rename, rm, type FileHandle } from 'node:fs/promises';
import { dirname, basename, join } from 'node:path';

export interface WriteFileAtomicOptions {
  /**
   * Writes `data` into the open temporary file at `tempPath`. A fault injector replaces it to stop
   * half-way (the chaos suite kills a process inside a checkpoint write); when it rejects, the
   * temporary file is removed and the target left as it was.
   * @default file.writeFile(data)
   */
  readonly write?: (file: FileHandle, data: Uint8Array | string, tempPath: string) => Promise<void>;
}

/** The temporary file `writeFileAtomic` writes before the rename: `.<name>.<pid>.<time>.tmp`. */
export function isAtomicTempFile(name: string): boolean {
  return name.startsWith('.') && name.endsWith('.tmp');
}

/**
 * Writes `data` so that readers see either the old file or the whole new one: a temporary file in
 * the same directory, fsync, rename over the target, then fsync of the directory so the rename
 * itself survives a crash.
 */
export async function writeFileAtomic(path: string, data: Uint8Array | string, options: WriteFileAtomicOptions = {}): Promise<void> {
  const temp = join(dirname(path), `.${basename(path)}.${process.pid}.${Date.now()}.tmp`);
  const file = await open(temp, 'w');
  try {
    await (options.write ? options.write(file, data, temp) : file.writeFile(data));
    await file.sync();
  } catch (error) {
    await file.close();
    await rm(temp, { force: true });
    throw error;
  }
  await file.close();
  try {
    await rename(temp, path);
  } catch (error) {
    await rm(temp, { force: true });
    throw error;
  }
  const dir = await open(dirname(path), 'r');
  try {
    await dir.sync();
  } finally {
    await dir.close();
  }
}
