import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readSafetensors } from '@dptrain/safetensors';
import { describe, expect, it } from 'vitest';
import { runCli } from '../cli/run-cli.js';

// A CNN with one conv block of 4 channels and batch norm, on wasm: every micro-batch of 4 samples
// is normalised with its own moments, which shard 0 combines in id order into running statistics.
const BN = [
  '--dataset',
  'synthetic',
  '--model',
  'cnn',
  '--channels',
  '4',
  '--batch-size',
  '16',
  '--micro-batch-size',
  '4',
  '--backend',
  'wasm',
  '--steps',
  '6',
  '--optimizer',
  'adam',
];

describe('batch-norm running statistics in the cluster', () => {
  it('equal dptrain train bit for bit with 2 workers and 2 shards', async () => {
    const reference = mkdtempSync(join(tmpdir(), 'bn-train-'));
    const cluster = mkdtempSync(join(tmpdir(), 'bn-local-'));
    expect((await runCli(['train', ...BN, '--out', reference])).code).toBe(0);
    expect((await runCli(['local', ...BN, '--workers', '2', '--ps-shards', '2', '--out', cluster])).code).toBe(0);
    const a = await readSafetensors(join(reference, 'params.safetensors'));
    const b = await readSafetensors(join(cluster, 'params.safetensors'));
    expect([...b.tensors.keys()]).toEqual([...a.tensors.keys()]);
    const mean = b.tensors.get('bn0/running_mean')!.data as Float32Array;
    // Running means start at 0; after 6 steps with momentum 0.1 they have moved.
    expect([...mean].some((m) => m !== 0)).toBe(true);
    const bytesOf = (t: { data: ArrayBufferView }): Buffer => Buffer.from(t.data.buffer, t.data.byteOffset, t.data.byteLength);
    for (const [name, tensor] of a.tensors) {
      expect({ name, identical: bytesOf(b.tensors.get(name)!).equals(bytesOf(tensor)) }).toEqual({ name, identical: true });
    }
  });
});
