import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { JobConfig } from '@dptrain/config';
import type { OptimizerState } from '@dptrain/optim';
import { canonicalJson, decodeChecked, encodeChecked, makeDirectory, writeFileAtomic, type Tensor } from '@dptrain/safetensors';
import { createHash } from 'node:crypto';
import { optimizerEntries, optimizerFromEntries } from './optimizer-state-file.js';
import { withCode } from '@dptrain/errors';

/** Everything the reference trainer needs to go on after `step` steps, bit for bit. */
export interface TrainerState {
  /** Steps done. */
  readonly step: number;
  readonly params: Float32Array;
  readonly optimizer: OptimizerState;
  readonly bnState: Float32Array;
  /** The current epoch's loss sum and step count so far, and the last finished epoch's mean. */
  readonly epochLossSum: number;
  readonly epochSteps: number;
  readonly trainLoss: number;
}

const FORMAT = 'dptrain-trainer-checkpoint/1';

/** Where `dptrain train` keeps its one checkpoint: `<out>/checkpoints/trainer.safetensors`. */
export function trainerCheckpointPath(out: string): string {
  return join(out, 'checkpoints', 'trainer.safetensors');
}

/** The job a checkpoint belongs to: sha256 of its config, keys sorted. */
function fingerprintOf(config: JobConfig): string {
  return createHash('sha256').update(canonicalJson(config)).digest('hex');
}

/** Writes `state` atomically (temporary file, fsync, rename), replacing the previous checkpoint. */
export async function writeTrainerCheckpoint(config: JobConfig, state: TrainerState): Promise<void> {
  const vector = (data: Float32Array): Tensor => ({ shape: [data.length], data });
  const optimizer = optimizerEntries(state.optimizer);
  const tensors = new Map<string, Tensor>([['params', vector(state.params)], ['bn', vector(state.bnState)], ...optimizer.tensors]);
  // The loss sums travel as JSON numbers: JSON keeps every bit of a double.
  const metadata = {
    format: FORMAT,
    fingerprint: fingerprintOf(config),
    step: String(state.step),
    optimizer: optimizer.metadata,
    losses: JSON.stringify([state.epochLossSum, state.epochSteps, state.trainLoss]),
  };
  const path = trainerCheckpointPath(config.out);
  await makeDirectory(join(config.out, 'checkpoints'));
  await writeFileAtomic(path, encodeChecked(tensors, metadata));
}

/** A trainer checkpoint that cannot be resumed; the message says why and what to do. */
export class TrainerCheckpointError extends withCode('E_CHECKPOINT') {}

/**
 * The state writeTrainerCheckpoint saved for `config`'s run.
 * @throws TrainerCheckpointError when there is none, it is corrupt, or it belongs to another job
 */
export async function readTrainerCheckpoint(config: JobConfig): Promise<TrainerState> {
  const path = trainerCheckpointPath(config.out);
  let bytes: Uint8Array;
  try {
    bytes = await readFile(path);
  } catch (error) {
    throw new TrainerCheckpointError(
      `cannot resume: ${path} cannot be read (${(error as NodeJS.ErrnoException).code}); the run stopped before its first checkpoint (every checkpointEvery steps and at each epoch's end): start it again with --force`,
      { cause: error },
    );
  }
  let file;
  try {
    file = decodeChecked(bytes, path);
  } catch (error) {
    throw new TrainerCheckpointError(`cannot resume from ${path}: ${(error as Error).message}; start the run again with --force`, { cause: error });
  }
  const { metadata, tensors } = file;
  if (metadata.format !== FORMAT || metadata.fingerprint !== fingerprintOf(config)) {
    throw new TrainerCheckpointError(
      `cannot resume from ${path}: it is not a checkpoint of this run's job (format ${metadata.format}); start the run again with --force`,
    );
  }
  const f32 = (name: string): Float32Array => {
    const data = tensors.get(name)?.data;
    if (!(data instanceof Float32Array)) throw new TrainerCheckpointError(`cannot resume from ${path}: tensor ${name} is missing or not F32`);
    return data.slice();
  };
  const [epochLossSum, epochSteps, trainLoss] = JSON.parse(metadata.losses!) as [number, number, number | null];
  return {
    step: Number(metadata.step),
    params: f32('params'),
    bnState: f32('bn'),
    optimizer: optimizerFromEntries(metadata.optimizer!, f32),
    epochLossSum,
    epochSteps,
    trainLoss: trainLoss ?? Number.NaN,
  };
}
