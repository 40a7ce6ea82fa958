import { close, constants, fstatSync, openSync, readSync, write, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import { withCode } from '@dptrain/errors';
import { makeDirectory } from '@dptrain/safetensors';

/** The trace file cannot be opened (the process then does not start). */
export class TraceFileError extends withCode('E_TRACE_FILE') {}

/**
 * A trace file that grows by batches: `append` hands the text to one asynchronous write at a time
 * (the event loop never waits for the disk), and `flushSync` writes what is left before the process
 * exits, when nothing asynchronous would finish.
 *
 * Every write goes to a position this object keeps (not O_APPEND), so `flushSync` can write a batch
 * whose asynchronous write may or may not have happened again at the same place: the same bytes
 * either way, and no batch lost or doubled. An existing file is continued, as a restarted process
 * (`dptrain local` restarts a killed shard with the same arguments) records after its predecessor.
 */
export class TraceFile {
  private queued: string[] = [];
  /** The bytes of the asynchronous write under way, and where they go. */
  private writing: { bytes: Buffer; at: number } | undefined;
  /** Bumped by flushSync: a write started before it reports to nobody. */
  private generation = 0;
  private failed = false;
  private drained: (() => void)[] = [];

  private constructor(
    readonly path: string,
    private readonly fd: number,
    private position: number,
    private readonly onError: (error: Error) => void,
  ) {}

  /**
   * Opens (or creates, with its directory) the file at `path` to continue it.
   * @param onError told once when a write fails; tracing then stops, the process goes on
   * @throws TraceFileError when it cannot be created or opened for writing
   */
  static async open(path: string, onError: (error: Error) => void): Promise<TraceFile> {
    try {
      await makeDirectory(dirname(path));
      const fd = openSync(path, constants.O_RDWR | constants.O_CREAT, 0o644);
      const size = fstatSync(fd).size;
      const file = new TraceFile(path, fd, size, onError);
      // A process killed in the middle of a write may have left half a line: end it, so that the
      // next line stays whole (the merge reports the broken one with its line number).
      if (size > 0) {
        const last = Buffer.alloc(1);
        readSync(fd, last, 0, 1, size - 1);
        if (last[0] !== 0x0a) file.append('\n');
      }
      return file;
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
      // mkdir -p says EEXIST where a level of the path is a file.
      const why = code === 'EEXIST' || code === 'ENOTDIR' ? `${code}: a part of the path is a file, not a directory` : code;
      throw new TraceFileError(`cannot write the trace to ${path} (${why}); give --trace a file in a directory this process can write to`, { cause: error });
    }
  }

  /** Queues `text` (whole lines) to be written after what was appended before. */
  append(text: string): void {
    if (this.failed || text === '') return;
    this.queued.push(text);
    if (!this.writing) this.writeNext();
  }

  /** Writes everything appended so far now, blocking: for the exit path only. */
  flushSync(): void {
    if (this.failed) return;
    const pending = [...(this.writing ? [this.writing.bytes] : []), Buffer.from(this.queued.join(''))];
    let at = this.writing?.at ?? this.position;
    this.generation++;
    this.writing = undefined;
    this.queued = [];
    try {
      for (const bytes of pending) {
        for (let done = 0; done < bytes.length; ) done += writeSync(this.fd, bytes, done, bytes.length - done, at + done);
        at += bytes.length;
      }
      this.position = at;
    } catch (error) {
      this.fail(error as Error);
    }
    this.settle();
  }

  /** Waits for the queued text to be written, then closes the file. */
  async close(): Promise<void> {
    if (this.writing) await new Promise<void>((resolve) => this.drained.push(resolve));
    await new Promise<void>((resolve) => close(this.fd, () => resolve()));
  }

  private writeNext(): void {
    const bytes = Buffer.from(this.queued.join(''));
    this.queued = [];
    this.writing = { bytes, at: this.position };
    this.writeFrom(bytes, 0, this.generation);
  }

  private writeFrom(bytes: Buffer, done: number, generation: number): void {
    write(this.fd, bytes, done, bytes.length - done, this.position + done, (error, written) => {
      if (generation !== this.generation) return;
      if (error) {
        this.fail(error);
        this.settle();
        return;
      }
      if (done + written < bytes.length) {
        this.writeFrom(bytes, done + written, generation);
        return;
      }
      this.position += bytes.length;
      this.writing = undefined;
      if (this.queued.length > 0) this.writeNext();
      else this.settle();
    });
  }

  private fail(error: Error): void {
    this.failed = true;
    this.writing = undefined;
    this.queued = [];
    this.onError(error);
  }

  private settle(): void {
    for (const resolve of this.drained.splice(0)) resolve();
  }
}
