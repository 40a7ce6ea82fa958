import { hostileFrames } from './hostile-frames.js';
import {
  evictByRegister,
  fakeWorker,
  overflowingPushes,
  parkedPulls,
  readOnlyCheckpoints,
  slowReader,
  tinyPayloadPeer,
  unticketedPushes,
} from './hostile-peers.js';
import { duplicatePush, partition, resetMidFrame } from './network-faults.js';
import { allWorkersKilled, workerSigkill, workerSigstop } from './process-faults.js';
import { PAST_TIMEOUT_MS, WORKER_TIMEOUT_MS } from './processes.js';
import { checkpointCrash, colocatedWorkerRestart, coordinatorRestart, psRestart } from './recovery-faults.js';
import { nanQuarantine, straggler } from './worker-faults.js';
import type { Scenario } from './types.js';

/**
 * The small synthetic job every scenario runs: 400 steps (7 epochs of 62) of 4 micro-batches. Faults strike after
 * step 2–30, so the run must be long enough that a fast machine has not finished it by then. Workers
 * beat every 500 ms and are dead after WORKER_TIMEOUT_MS of silence.
 */
export function jobArgs(backend: string): string[] {
  return [
    '--dataset',
    'synthetic',
    '--model',
    'mlp',
    '--hidden',
    '32',
    '--batch-size',
    '32',
    '--micro-batch-size',
    '8',
    '--backend',
    backend,
    '--epochs',
    '7',
    '--steps',
    '400',
    '--optimizer',
    'adam',
    '--worker-timeout-ms',
    String(WORKER_TIMEOUT_MS),
    '--heartbeat-ms',
    '500',
  ];
}

export const SCENARIOS: readonly Scenario[] = [
  {
    id: 1,
    name: 'worker-sigkill',
    fault: 'SIGKILL worker-0 after step 5 (sync)',
    invariant: 'params bit-identical to dptrain train',
    layouts: ['separate', 'colocated'],
    run: workerSigkill,
  },
  {
    id: 2,
    name: 'worker-sigstop',
    fault: `SIGSTOP worker-0 past the worker timeout, then SIGCONT`,
    invariant: 'worker-timeout recorded, re-leased; late pushes ignored; bit-identical',
    run: workerSigstop,
  },
  {
    id: 3,
    name: 'ps-restart',
    fault: 'SIGKILL ps-0 after step 30; local restarts it with --resume (checkpoint every 20 + write-ahead log)',
    invariant: 'shard lost and back; each (step, micro-batch) applied once; bit-identical',
    run: psRestart,
  },
  {
    id: 4,
    name: 'coordinator-restart',
    fault: 'SIGKILL the coordinator after step 30; local restarts it with --resume',
    invariant: 'job resumes; every step closed once; bit-identical',
    layouts: ['separate', 'colocated'],
    run: coordinatorRestart,
  },
  {
    id: 5,
    name: 'duplicate-push',
    fault: 'proxy duplicates gradient frames worker-0 → shard 0',
    invariant: 'shard counts duplicate ≥ 1; bit-identical',
    run: duplicatePush,
  },
  {
    id: 6,
    name: 'reset-mid-frame',
    fault: 'proxy resets worker-0 ↔ shard 0 inside a gradient frame',
    invariant: 'each micro-batch applied once; bit-identical',
    run: resetMidFrame,
  },
  {
    id: 7,
    name: 'partition',
    fault: `worker-0's namespace link down ${PAST_TIMEOUT_MS / 1000} s`,
    invariant: 'its work re-leased; bit-identical',
    run: partition,
  },
  {
    id: 8,
    name: 'straggler',
    fault: 'worker-0 40× slower (DPTRAIN_FAULT slow=40)',
    invariant: 'backup leases finish its steps, counted apart from faults; bit-identical',
    layouts: ['separate', 'colocated'],
    run: straggler,
  },
  {
    id: 9,
    name: 'checkpoint-crash',
    fault: 'SIGKILL ps-0 half-way through writing its step-40 checkpoint',
    invariant: 'the step-20 checkpoint loads, checksum verified; bit-identical',
    run: checkpointCrash,
  },
  {
    id: 10,
    name: 'nan-quarantine',
    fault: 'worker-0 pushes NaN gradients from step 10',
    invariant: 'refused, re-leased, worker quarantined; bit-identical',
    layouts: ['separate', 'colocated'],
    run: nanQuarantine,
  },
  {
    id: 11,
    name: 'hostile-frames',
    fault: 'bad token/version/msgpack, deep nesting, huge lengths, __proto__, unknown ext, oversized, wrong-length and NaN tensors',
    invariant: 'refused with codes; processes alive; RSS bounded; params unchanged',
    run: hostileFrames,
  },
  {
    id: 12,
    name: 'all-workers-killed',
    fault: 'SIGKILL every worker',
    invariant: 'dptrain local exits non-zero with the reason within 15 s',
    run: allWorkersKilled,
  },
  // Peers that hold the token (docs/SECURITY.md):
  {
    id: 13,
    name: 'tiny-payload-peer',
    fault: 'a peer declaring a 1-byte max payload, then one at the floor sending a bad frame',
    invariant: 'refused at the handshake; answered, not crashed; bit-identical',
    run: tinyPayloadPeer,
  },
  {
    id: 14,
    name: 'overflowing-pushes',
    fault: 'four ticketed pushes of 3e38 whose float32 sum overflows',
    invariant: 'the step is refused; the job fails within 120 s naming it',
    run: overflowingPushes,
  },
  {
    id: 15,
    name: 'unticketed-pushes',
    fault: 'pushes of step 0 without a ticket or with a forged one',
    invariant: 'each refused E_TICKET; bit-identical',
    run: unticketedPushes,
  },
  {
    id: 16,
    name: 'fake-worker',
    fault: 'a worker answering every lease without pushing, and a lease it does not hold',
    invariant: 'step re-leased, the worker quarantined, the foreign leaseDone refused; bit-identical',
    run: fakeWorker,
  },
  {
    id: 17,
    name: 'slow-reader',
    fault: 'a peer flooding pulls and reading nothing',
    invariant: 'cut off at the buffer bound, RSS bounded; bit-identical',
    run: slowReader,
  },
  {
    id: 18,
    name: 'parked-pulls',
    fault: 'pulls parked past the cap and far ahead; 40 client connections',
    invariant: 'E_LIMIT / E_RANGE, 32 clients at most; bit-identical',
    run: parkedPulls,
  },
  {
    id: 19,
    name: 'evict-by-register',
    fault: "register under a live worker's id read from /status; /status without the token; 200 half-sent upgrades",
    invariant: 'E_AUTH, 401, still serving; the victim keeps its place; bit-identical',
    run: evictByRegister,
  },
  {
    id: 20,
    name: 'read-only-checkpoints',
    fault: "a shard's checkpoint directory on a read-only file system",
    invariant: 'the shard exits 1 naming EROFS; the coordinator says what it waits for; a good shard then finishes bit-identical',
    run: readOnlyCheckpoints,
  },
  // The co-located layout (dptrain local --colocate: each worker serves one shard):
  {
    id: 21,
    name: 'colocated-worker-restart',
    fault: 'SIGKILL worker-0, which serves shard 0 (--colocate), after step 30; local restarts it with --resume',
    invariant: 'worker and shard lost and back; each (step, micro-batch) applied once; bit-identical',
    layouts: ['colocated'],
    run: colocatedWorkerRestart,
  },
];
