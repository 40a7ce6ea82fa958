import { readdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { OptimizerState } from '@dptrain/optim';
import { decodeChecked, encodeChecked, isAtomicTempFile, writeFileAtomic, type Tensor, type WriteFileAtomicOptions } from '@dptrain/safetensors';
import type { Logger } from '@dptrain/log';
import { optimizerEntries, optimizerFromEntries } from '@dptrain/training';
import type { AppliedReport } from './shard-types.js';
import type { PointView } from './previous-point.js';
import { withCode } from '@dptrain/errors';

/** Everything a shard needs to continue after `step` steps (version `version`), bit for bit. */
export interface ShardSnapshot {
  /** Steps applied: the version in sync mode, version / M in async mode. */
  readonly step: number;
  readonly version: number;
  readonly params: Float32Array;
  readonly optimizer: OptimizerState;
  readonly bnState: Float32Array | undefined;
  /** The applied ledger's bit set (AppliedLedger.bytes()). */
  readonly ledger: Uint8Array;
  /** Sync: what a pull of version − 1 returns. */
  readonly previous: PointView | undefined;
  readonly recentApplied: readonly AppliedReport[];
  readonly stalenessHistogram: readonly number[];
}

const FORMAT = 'dptrain-shard-checkpoint/1';
const NAME = /^ckpt-(\d+)\.safetensors$/;

export function checkpointName(step: number): string {
  return `ckpt-${String(step).padStart(9, '0')}.safetensors`;
}

/** Checkpoint files of `dir`, newest step first. */
export async function listCheckpoints(dir: string): Promise<{ step: number; name: string }[]> {
  const names = await readdir(dir).catch((error: NodeJS.ErrnoException) => (error.code === 'ENOENT' ? [] : Promise.reject(error)));
  return names
    .map((name) => ({ name, match: NAME.exec(name) }))
    .filter((e) => e.match)
    .map((e) => ({ step: Number(e.match![1]), name: e.name }))
    .sort((a, b) => b.step - a.step);
}

/** The checkpoint of `snapshot` as safetensors bytes; `sha256` in the metadata covers the rest. */
export function encodeCheckpoint(snapshot: ShardSnapshot, fingerprint: string): Uint8Array {
  const tensors = new Map<string, Tensor>();
  const vector = (data: Float32Array | Uint8Array): Tensor => ({ shape: [data.length], data });
  tensors.set('params', vector(snapshot.params));
  const optimizer = optimizerEntries(snapshot.optimizer);
  for (const [name, tensor] of optimizer.tensors) tensors.set(name, tensor);
  if (snapshot.bnState) tensors.set('bn', vector(snapshot.bnState));
  tensors.set('ledger', vector(snapshot.ledger));
  const previous = snapshot.previous;
  if (previous) {
    tensors.set('previous/params', vector(previous.params));
    if (previous.point !== previous.params) tensors.set('previous/point', vector(previous.point));
    if (previous.bnState) tensors.set('previous/bn', vector(previous.bnState));
  }
  const metadata: Record<string, string> = {
    format: FORMAT,
    fingerprint,
    step: String(snapshot.step),
    version: String(snapshot.version),
    optimizer: optimizer.metadata,
    recentApplied: JSON.stringify(snapshot.recentApplied),
    stalenessHistogram: JSON.stringify(snapshot.stalenessHistogram),
    ...(previous ? { previousVersion: String(previous.version) } : {}),
  };
  return encodeChecked(tensors, metadata);
}

/** Why a checkpoint file cannot be used; the loader logs it and tries the next older file. */
export class CheckpointRejected extends withCode('E_CHECKPOINT_REJECTED') {}

/**
 * Decodes and verifies one checkpoint file's bytes.
 * @throws CheckpointRejected naming what is wrong (malformed or truncated, checksum, fingerprint)
 */
export function decodeCheckpoint(bytes: Uint8Array, source: string, fingerprint: string): ShardSnapshot & { sha256: string } {
  let file;
  try {
    file = decodeChecked(bytes, source);
  } catch (error) {
    const code = (error as { code?: string }).code;
    throw new CheckpointRejected(
      code === 'E_ST_CHECKSUM' ? (error as Error).message.slice(source.length + 2) : `malformed or truncated: ${(error as Error).message}`,
    );
  }
  const { metadata, tensors, sha256: digest } = file;
  if (metadata.format !== FORMAT) throw new CheckpointRejected(`format is ${JSON.stringify(metadata.format)}, expected ${FORMAT}`);
  if (metadata.fingerprint !== fingerprint) {
    throw new CheckpointRejected(
      `job fingerprint ${metadata.fingerprint.slice(0, 12)}… is not this shard's ${fingerprint.slice(0, 12)}… (another job, shard or sharding)`,
    );
  }
  const f32 = (name: string): Float32Array => {
    const t = tensors.get(name);
    if (!t || !(t.data instanceof Float32Array)) throw new CheckpointRejected(`tensor ${name} is missing or not F32`);
    return t.data.slice();
  };
  const optional = (name: string) => (tensors.has(name) ? f32(name) : undefined);
  const ledger = tensors.get('ledger');
  if (!ledger || !(ledger.data instanceof Uint8Array)) throw new CheckpointRejected('tensor ledger is missing or not U8');
  const params = f32('params');
  const previousParams = optional('previous/params');
  return {
    step: Number(metadata.step),
    version: Number(metadata.version),
    params,
    optimizer: optimizerFromEntries(metadata.optimizer, f32),
    bnState: optional('bn'),
    ledger: ledger.data.slice(),
    previous: previousParams && {
      version: Number(metadata.previousVersion),
      params: previousParams,
      point: optional('previous/point') ?? previousParams,
      bnState: optional('previous/bn'),
    },
    recentApplied: JSON.parse(metadata.recentApplied) as AppliedReport[],
    stalenessHistogram: JSON.parse(metadata.stalenessHistogram) as number[],
    sha256: digest,
  };
}

/**
 * Writes the checkpoint of `snapshot` into `dir` atomically (temporary file, fsync, rename, fsync
 * of the directory).
 * @returns the file's path and size
 */
export async function writeCheckpoint(
  dir: string,
  snapshot: ShardSnapshot,
  fingerprint: string,
  options: WriteFileAtomicOptions = {},
): Promise<{ path: string; bytes: number }> {
  const path = join(dir, checkpointName(snapshot.step));
  const data = encodeCheckpoint(snapshot, fingerprint);
  await writeFileAtomic(path, data, options);
  return { path, bytes: data.byteLength };
}

/**
 * The newest valid checkpoint of `dir`: temporary files of unfinished writes are removed, and
 * files that are truncated, corrupt or of another job are skipped, each with a
 * `checkpoint-skipped` log line naming the file and the reason.
 */
export async function loadNewestCheckpoint(
  dir: string,
  fingerprint: string,
  log: Logger,
  fields: Record<string, unknown> = {},
): Promise<(ShardSnapshot & { path: string }) | undefined> {
  const names = await readdir(dir).catch((error: NodeJS.ErrnoException) => (error.code === 'ENOENT' ? [] : Promise.reject(error)));
  for (const name of names.filter(isAtomicTempFile)) {
    log({ level: 'warn', event: 'checkpoint-skipped', ...fields, path: join(dir, name), reason: 'temporary file of a write that never finished (removed)' });
    await rm(join(dir, name), { force: true });
  }
  for (const { name } of await listCheckpoints(dir)) {
    const path = join(dir, name);
    try {
      const bytes = await readFile(path);
      const snapshot = decodeCheckpoint(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength), path, fingerprint);
      // warn: a restore follows a crash, and chaos runs log warnings only.
      log({
        level: 'warn',
        event: 'checkpoint-loaded',
        ...fields,
        path,
        step: snapshot.step,
        version: snapshot.version,
        sha256: snapshot.sha256,
        message: `checkpoint of step ${snapshot.step} loaded, sha256 verified`,
      });
      return { ...snapshot, path };
    } catch (error) {
      if (!(error instanceof CheckpointRejected)) throw error;
      log({ level: 'warn', event: 'checkpoint-skipped', ...fields, path, reason: error.message });
    }
  }
  return undefined;
}

/** Removes all but the newest `keep` checkpoints of `dir`. */
export async function pruneCheckpoints(dir: string, keep: number): Promise<string[]> {
  const old = (await listCheckpoints(dir)).slice(keep).map((c) => join(dir, c.name));
  for (const path of old) await rm(path, { force: true });
  return old;
}
