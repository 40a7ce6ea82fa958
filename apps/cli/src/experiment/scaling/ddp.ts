import { spawn, spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { APP_ROOT } from '../../app-root.js';

/** The PyTorch DistributedDataParallel (gloo) child bench:cluster uses; it prints one result line. */
const SCRIPT = join(APP_ROOT, '../../bench/cluster/torch_ddp.py');
const RESULT_MARKER = '@@bench-result ';
/** Debian's python3-torch lives under the system interpreter, not whatever `python3` is first on PATH. */
export const TORCH_PYTHON = '/usr/bin/python3';

export interface DdpRequest {
  readonly model: string;
  readonly dataset: string;
  readonly batchSize: number;
  readonly steps: number;
  readonly seed: number;
}

/** Why the anchor cannot run for this job, or undefined when it can. */
export function ddpUnavailable(request: DdpRequest, python = TORCH_PYTHON): string | undefined {
  if (request.dataset !== 'fashion-mnist') return `the DDP anchor trains on Fashion-MNIST only; this job uses --dataset ${request.dataset}`;
  if (request.model !== 'mlp' && request.model !== 'cnn') return `the DDP anchor has the mlp and cnn models only; this job uses --model ${request.model}`;
  const probe = spawnSync(python, ['-c', 'import torch, numpy, torch.distributed'], { encoding: 'utf8' });
  if (probe.status !== 0) return `${python} cannot import torch, numpy and torch.distributed (apt-get install python3-torch python3-numpy)`;
  return undefined;
}

export type DdpOutcome = { readonly ok: true; readonly samplesPerSecond: number; readonly note: string } | { readonly ok: false; readonly reason: string };

/**
 * Trains the same model with the same global batch on `worldSize` PyTorch processes (one thread
 * each, gloo, Adam lr 0.001) and returns rank 0's samples/s over `steps` timed steps.
 */
export function runDdp(request: DdpRequest, worldSize: number, python = TORCH_PYTHON): Promise<DdpOutcome> {
  if (request.batchSize % worldSize !== 0)
    return Promise.resolve({ ok: false, reason: `${worldSize} processes do not divide the batch of ${request.batchSize}` });
  const args = [
    SCRIPT,
    '--model',
    request.model,
    '--world-size',
    String(worldSize),
    '--batch-size',
    String(request.batchSize),
    '--steps',
    String(request.steps),
    '--warmup',
    String(Math.max(5, Math.floor(request.steps / 10))),
    '--seed',
    String(request.seed),
  ];
  return new Promise((resolve) => {
    const child = spawn(python, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-2000)));
    child.once('error', (error) => resolve({ ok: false, reason: `cannot start ${python}: ${error.message}` }));
    child.once('exit', (code) => {
      const line = stdout.split('\n').find((l) => l.startsWith(RESULT_MARKER));
      if (!line) {
        resolve({ ok: false, reason: `torch_ddp.py exited with code ${code} without a result: ${stderr.trim().split('\n').slice(-1)[0] ?? ''}` });
        return;
      }
      const outcome = JSON.parse(line.slice(RESULT_MARKER.length)) as { ok: boolean; reason?: string; value?: { samplesPerSecond: number; notes: string[] } };
      resolve(
        outcome.ok && outcome.value
          ? { ok: true, samplesPerSecond: outcome.value.samplesPerSecond, note: outcome.value.notes.join('; ') }
          : { ok: false, reason: outcome.reason ?? 'no reason given' },
      );
    });
  });
}
