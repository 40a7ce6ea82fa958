import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { oneLine, type ChildOutcome } from '../lib/child.js';

const DPTRAIN = fileURLToPath(new URL('../../apps/cli/bin/dptrain.js', import.meta.url));

export interface LocalRequest {
  readonly model: 'mlp' | 'cnn';
  readonly workers: number;
  /** How long the run is: a number of steps, or of epochs (`{ epochs: 3 }`). */
  readonly steps: number | { readonly epochs: number };
  readonly batchSize: number;
  readonly microBatchSize: number;
  /** @default 600_000 */
  readonly timeoutMs?: number;
  /** More flags of `dptrain local` (e.g. `--trace DIR`). */
  readonly extraArgs?: readonly string[];
  /** Variables added to this process's environment for the run. */
  readonly env?: Readonly<Record<string, string>>;
  /** Called with the run folder of a successful run, before it is removed (to read more of it). */
  readonly onRunFolder?: (out: string) => void;
}

/** What a `dptrain local` run's summary.json says about its speed. */
export interface LocalMeasurement {
  readonly paramCount: number;
  /** The coordinator's steady-state clock: the steps after the first 10%, evaluation excluded, median of 5 rounds. */
  readonly steadySamplesPerSecond: number;
  /** The average worker's milliseconds per step in each phase. */
  readonly timingPerStepMs: { computeMs: number; pullMs: number; pushMs: number; waitMs: number };
}

/**
 * Runs `dptrain local` (coordinator, one shard, `workers` workers as child processes) on
 * Fashion-MNIST with Adam lr 0.001 on the wasm backend for `steps` steps, and reads its
 * summary.json. Never throws: a failed run is `ok: false` with the end of its stderr.
 */
export function measureLocal(request: LocalRequest): Promise<ChildOutcome<LocalMeasurement>> {
  const out = mkdtempSync(join(tmpdir(), 'bench-cluster-'));
  const args = [
    DPTRAIN, 'local',
    '--dataset', 'fashion-mnist', '--model', request.model, '--backend', 'wasm',
    '--optimizer', 'adam', '--lr', '0.001',
    '--batch-size', String(request.batchSize), '--micro-batch-size', String(request.microBatchSize),
    ...(typeof request.steps === 'number' ? ['--steps', String(request.steps)] : ['--epochs', String(request.steps.epochs)]),
    '--workers', String(request.workers), '--out', out,
    ...(request.extraArgs ?? []),
  ];
  return new Promise((resolve) => {
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, ...request.env } });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-4000)));
    const timer = setTimeout(() => child.kill('SIGTERM'), request.timeoutMs ?? 600_000);
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      try {
        if (code !== 0) {
          resolve({ ok: false, reason: oneLine(`dptrain local exited ${signal ?? code}: ${stderr.trim().split('\n').slice(-2).join(' ')}`) });
          return;
        }
        const summary = JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8')) as LocalMeasurement;
        request.onRunFolder?.(out);
        resolve({ ok: true, value: { paramCount: summary.paramCount, steadySamplesPerSecond: summary.steadySamplesPerSecond, timingPerStepMs: summary.timingPerStepMs } });
      } catch (error) {
        resolve({ ok: false, reason: oneLine((error as Error).message) });
      } finally {
        rmSync(out, { recursive: true, force: true });
      }
    });
  });
}
