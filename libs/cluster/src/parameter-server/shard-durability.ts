import { readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { FileHandle } from 'node:fs/promises';
import { isAtomicTempFile, makeDirectory } from '@dptrain/safetensors';
import { noSpans, type Logger, type Spans } from '@dptrain/log';
import { listCheckpoints, loadNewestCheckpoint, pruneCheckpoints, writeCheckpoint, type ShardSnapshot } from './checkpoint-file.js';
import { listWalFiles, WalReader, WalRejected, WalWriter, type WalRecord } from './write-ahead-log.js';

/** Where and how often a shard makes its state durable. */
export interface DurabilityOptions {
  /** This shard's own directory (e.g. `<out>/checkpoints/shard-0`); created when missing. */
  readonly dir: string;
  /** Steps between checkpoints (async: this many × M updates); 0: never, the log alone replays from step 0. */
  readonly every: number;
  /** Checkpoints kept, newest first (≥ 1). */
  readonly keep: number;
  /**
   * Restore from `dir` before serving; otherwise `dir`'s old checkpoints and logs are removed and
   * the job description is saved there (job.json).
   */
  readonly resume: boolean;
  /**
   * Fault injection for the chaos suite (DPTRAIN_FAULT stall-checkpoint-step=T): the checkpoint of
   * step T writes about half of its temporary file, logs `checkpoint-stalled` and never finishes.
   */
  readonly stallCheckpointStep?: number;
}

/**
 * A shard's checkpoints and write-ahead log in one directory: `ckpt-<step>.safetensors` and
 * `wal-<version>.log`, a new log beginning at each checkpoint. Once a checkpoint is durable, the
 * checkpoints beyond `keep` and the logs older than the oldest kept checkpoint are removed.
 */
export class ShardDurability {
  private writer: WalWriter | undefined;
  private inFlight: Promise<void> | undefined;
  private pending: ShardSnapshot | undefined;
  /** The stall fault holds a write that never finishes. */
  private stalled = false;
  private readonly abort = new AbortController();

  /**
   * @param updatesPerStep 1 in sync mode, M in async mode (where the version counts micro-batches)
   */
  constructor(
    readonly options: DurabilityOptions,
    private readonly fingerprint: string,
    private readonly updatesPerStep: number,
    private readonly log: Logger,
    private readonly fields: Record<string, unknown>,
    private readonly spans: Spans = noSpans,
  ) {
    if (!(Number.isInteger(options.every) && options.every >= 0)) throw new RangeError(`checkpointEvery must be an integer ≥ 0, got ${options.every}`);
    if (!(Number.isInteger(options.keep) && options.keep >= 1)) throw new RangeError(`checkpointKeep must be an integer ≥ 1, got ${options.keep}`);
    const stall = options.stallCheckpointStep;
    if (stall !== undefined && (options.every === 0 || stall % options.every !== 0)) {
      log({
        level: 'warn',
        event: 'fault-ignored',
        ...fields,
        message: `stall-checkpoint-step=${stall} names no checkpoint: they are written every ${options.every} steps (0: never)`,
      });
    }
  }

  /** Creates the directory; a fresh start (not resume) removes what an earlier run left in it. */
  async prepare(): Promise<void> {
    await makeDirectory(this.options.dir);
    if (this.options.resume) return;
    const old = (await readdir(this.options.dir)).filter((name) => /^(ckpt-\d+\.safetensors|wal-\d+\.log)$/.test(name) || isAtomicTempFile(name));
    for (const name of old) await rm(join(this.options.dir, name), { force: true });
    if (old.length > 0)
      this.log({
        level: 'info',
        event: 'checkpoint-dir-cleared',
        ...this.fields,
        dir: this.options.dir,
        removed: old.length,
        message: 'fresh start: checkpoints and logs of an earlier run removed (start with --resume to continue from them)',
      });
  }

  loadCheckpoint(): Promise<(ShardSnapshot & { path: string }) | undefined> {
    return loadNewestCheckpoint(this.options.dir, this.fingerprint, this.log, this.fields);
  }

  /**
   * Feeds `apply` the logged updates from `version` on, in order, through every log file that
   * continues the chain; a torn tail, a gap or a file of another job ends it with a log line.
   * @returns the version reached
   */
  async replay(version: number, apply: (record: WalRecord) => void): Promise<number> {
    let current = version;
    for (const { name } of await listWalFiles(this.options.dir)) {
      const path = join(this.options.dir, name);
      let reader: WalReader;
      try {
        reader = new WalReader(path, this.fingerprint);
      } catch (error) {
        if (!(error instanceof WalRejected)) throw error;
        this.log({ level: 'warn', event: 'wal-skipped', ...this.fields, path, reason: error.message });
        continue;
      }
      try {
        if (reader.start > current) {
          this.log({
            level: 'warn',
            event: 'wal-gap',
            ...this.fields,
            path,
            version: current,
            message: `log ${path} starts at version ${reader.start} but the state is at ${current}; its records cannot be applied`,
          });
          break;
        }
        for (let record = reader.read(); record; record = reader.read()) {
          if (record.version < current) continue;
          if (record.version > current) {
            this.log({
              level: 'warn',
              event: 'wal-gap',
              ...this.fields,
              path,
              version: current,
              message: `record of version ${record.version} follows version ${current}`,
            });
            break;
          }
          apply(record);
          current++;
        }
        const end = reader.end();
        if (end.torn)
          this.log({
            level: 'warn',
            event: 'wal-torn-tail',
            ...this.fields,
            path,
            offset: end.validBytes,
            ignoredBytes: end.torn.ignoredBytes,
            reason: end.torn.reason,
          });
      } finally {
        reader.close();
      }
    }
    return current;
  }

  /** Starts the log the next updates go to, at `version`; logs that start later are unreachable and removed. */
  async startLog(version: number): Promise<void> {
    for (const { start, name } of await listWalFiles(this.options.dir)) {
      if (start <= version) continue;
      this.log({
        level: 'warn',
        event: 'wal-discarded',
        ...this.fields,
        path: join(this.options.dir, name),
        message: `starts at version ${start}, after the restored version ${version}`,
      });
      await rm(join(this.options.dir, name), { force: true });
    }
    this.writer = WalWriter.create(this.options.dir, version, this.fingerprint);
  }

  /** Logs one update; call it before the update is applied. */
  append(record: WalRecord): void {
    if (!this.writer) return;
    const end = this.spans.begin('walAppend', { version: record.version });
    try {
      this.writer.append(record);
    } finally {
      end();
    }
  }

  /** Whether the state at `version` is due for a checkpoint. */
  due(version: number): boolean {
    const every = this.options.every * this.updatesPerStep;
    return every > 0 && version > 0 && version % every === 0;
  }

  /**
   * Starts the log that follows `snapshot` (a copy, taken at the step boundary) and writes its
   * checkpoint in the background. While one is being written, the next waits; a third supersedes
   * the waiting one (its log segment stays, so nothing is lost).
   */
  checkpoint(snapshot: ShardSnapshot): void {
    this.writer?.close();
    this.writer = WalWriter.create(this.options.dir, snapshot.version, this.fingerprint);
    if (this.pending) {
      this.log({
        level: 'warn',
        event: 'checkpoint-deferred',
        ...this.fields,
        step: this.pending.step,
        message: `checkpoint of step ${this.pending.step} skipped: the one before it is still being written and step ${snapshot.step} is due`,
      });
    }
    this.pending = snapshot;
    if (!this.inFlight) this.next();
  }

  /** Resolves when no checkpoint is being written (never while one is stalled by the fault knob). */
  async settled(): Promise<void> {
    while (this.inFlight) await this.inFlight;
  }

  /**
   * Closes the log and gives up a checkpoint being written (a stalled one included): resolves once
   * its temporary file is removed.
   */
  async close(): Promise<void> {
    this.writer?.close();
    this.writer = undefined;
    this.pending = undefined;
    this.abort.abort(new Error('shard closed'));
    await this.inFlight;
  }

  private next(): void {
    const snapshot = this.pending;
    this.pending = undefined;
    if (!snapshot || this.abort.signal.aborted) return;
    this.inFlight = this.write(snapshot).finally(() => {
      this.inFlight = undefined;
      this.next();
    });
  }

  /**
   * At the end of a job: makes `snapshot` (the final state) a durable checkpoint, then removes the
   * logs it covers, so a finished run keeps its newest `keep` checkpoints and job.json only.
   */
  async finish(snapshot: ShardSnapshot): Promise<void> {
    this.writer?.close();
    this.writer = undefined;
    this.pending = undefined;
    if (this.stalled) return;
    await this.settled();
    const { dir } = this.options;
    const isFinal = (c: { step: number }) => c.step * this.updatesPerStep === snapshot.version;
    if (!(await listCheckpoints(dir)).some(isFinal)) await this.write(snapshot);
    // A failed write was logged; the logs then stay, and resume still reaches this version.
    if (!(await listCheckpoints(dir)).some(isFinal)) return;
    for (const { name } of await listWalFiles(dir)) await rm(join(dir, name), { force: true });
  }

  private async write(snapshot: ShardSnapshot): Promise<void> {
    const end = this.spans.begin('checkpoint', { step: snapshot.step, version: snapshot.version });
    try {
      await this.writeNow(snapshot);
    } finally {
      end();
    }
  }

  private async writeNow(snapshot: ShardSnapshot): Promise<void> {
    const started = performance.now();
    const { dir } = this.options;
    try {
      const stall =
        snapshot.step === this.options.stallCheckpointStep
          ? { write: (file: FileHandle, data: Uint8Array | string, temp: string) => this.stall(file, data, temp, snapshot.step) }
          : {};
      const { path, bytes } = await writeCheckpoint(dir, snapshot, this.fingerprint, stall);
      const pruned = await pruneCheckpoints(dir, this.options.keep);
      const kept = await listCheckpoints(dir);
      // Logs are kept from the oldest kept checkpoint on, so each kept checkpoint still replays
      // to the newest version (a corrupt newest checkpoint then costs no steps).
      const oldest = Math.min(snapshot.step, ...kept.map((c) => c.step)) * this.updatesPerStep;
      for (const { start, name } of await listWalFiles(dir)) if (start < oldest) await rm(join(dir, name), { force: true });
      this.log({
        level: 'info',
        event: 'checkpoint-written',
        ...this.fields,
        step: snapshot.step,
        version: snapshot.version,
        path,
        bytes,
        ms: Math.round(performance.now() - started),
        pruned: pruned.length,
        kept: kept.length,
      });
    } catch (error) {
      if (this.abort.signal.aborted) return;
      // The logs since the last durable checkpoint are kept, so nothing is lost but disk space.
      this.log({
        level: 'error',
        event: 'checkpoint-failed',
        ...this.fields,
        step: snapshot.step,
        dir,
        reason: (error as Error).message,
        message: `checkpoint of step ${snapshot.step} failed (${(error as Error).message}); the write-ahead log still covers it — free disk space or fix ${dir}`,
      });
    }
  }

  private async stall(file: FileHandle, data: Uint8Array | string, temp: string, step: number): Promise<never> {
    this.stalled = true;
    const bytes = typeof data === 'string' ? Buffer.from(data) : data;
    await file.write(bytes, 0, bytes.byteLength >> 1);
    this.log({
      level: 'warn',
      event: 'checkpoint-stalled',
      ...this.fields,
      step,
      path: temp,
      written: bytes.byteLength >> 1,
      of: bytes.byteLength,
      message: 'fault injection: this checkpoint will never finish',
    });
    return new Promise<never>((_, reject) => this.abort.signal.addEventListener('abort', () => reject(this.abort.signal.reason as Error), { once: true }));
  }
}
