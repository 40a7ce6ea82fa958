// Throughput of the cluster next to the single-process trainer and to PyTorch DDP, all measured in
// this run on the wasm backend, with the per-step time split of the workers and the wire's
// push+pull throughput next to raw ws frames of the same size.
//
//   npm run bench:cluster
//   npm run bench:cluster -- --models cnn --no-torch
//
// Rows run one at a time (the cluster rows need both cores): `dptrain train` (the reference
// trainer, bench/train/measure-dptrain.ts: median over rounds after a warm-up), two of those at
// once (nothing exchanged: the ceiling for two processes on these cores), `dptrain local`
// with 1 and 2 workers (summary.json's steady-state clock: the steps after the first 10%, the
// evaluation excluded, median of 5 rounds as for the reference trainer), PyTorch in one process and DistributedDataParallel over gloo with 2
// processes × 1 thread (bench/cluster/torch_ddp.py; rank 0's clock after a warm-up). Start-up,
// data loading and evaluation are never timed. The global batch is the same in every row.
import { spawnSync } from 'node:child_process';
import { availableParallelism, loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { readBenchFlags, type FlagSpec } from './lib/args.js';
import { runChild, tsxCommand, type ChildOutcome } from './lib/child.js';
import { median, roundRates } from './lib/stats.js';
import { formatCount, formatRatio, formatTable, type Column } from './lib/table.js';
import { measureLocal, type LocalMeasurement } from './cluster/measure-local.js';
import { requestArgs, type BenchModel, type StepTiming } from './train/measurement.js';
import { TORCH_PYTHON } from './train/plan.js';
import { dptrainPair, rawPair, timeRounds } from './wire.bench.js';

const MODELS = ['mlp', 'cnn'] as const;
const FLAGS = {
  models: { kind: 'list', help: 'models to measure', default: [...MODELS], choices: MODELS },
  'mlp-steps': { kind: 'int', help: 'steps of each MLP cluster run (the first 10% are not timed)', default: 400 },
  'cnn-steps': { kind: 'int', help: 'steps of each CNN cluster run (the first 10% are not timed)', default: 100 },
  'batch-size': { kind: 'int', help: 'samples per step (the global batch in every row)', default: 64 },
  'micro-batch-size': { kind: 'int', help: 'dptrain: samples per micro-batch', default: 16 },
  'wire-reps': { kind: 'int', help: 'alternating batches of push+pull rounds for the wire rows', default: 15 },
  'no-torch': { kind: 'boolean', help: 'skip the PyTorch rows', default: false },
  help: { kind: 'boolean', help: 'print this help', default: false },
} satisfies Record<string, FlagSpec>;

const flags = readBenchFlags('cluster', FLAGS);
const batchSize = flags['batch-size'];
const microBatchSize = flags['micro-batch-size'];

type Split = LocalMeasurement['timingPerStepMs'];
interface Row {
  readonly model: BenchModel;
  readonly label: string;
  readonly outcome: ChildOutcome<{ samplesPerSecond: number; paramCount: number; split?: Split }>;
}

function torchAvailable(): boolean {
  if (flags['no-torch']) return false;
  const probe = spawnSync(TORCH_PYTHON, ['-c', 'import torch, numpy, torch.distributed'], { encoding: 'utf8' });
  if (probe.status === 0) return true;
  console.log(`PyTorch rows skipped: ${TORCH_PYTHON} cannot import torch, numpy and torch.distributed (apt-get install python3-torch python3-numpy).`);
  return false;
}
const torch = torchAvailable();

async function measureTrain(model: BenchModel, steps: number): Promise<Row['outcome']> {
  const rounds = 5;
  const perRound = Math.max(2, Math.floor((steps * 0.9) / rounds));
  const request = {
    model,
    backend: 'wasm' as const,
    batchSize,
    microBatchSize,
    warmup: Math.max(2, Math.floor(steps / 10)),
    steps: perRound,
    rounds,
    takeTurns: false,
    seed: 1,
  };
  const { command, args } = tsxCommand(fileURLToPath(new URL('./train/measure-dptrain.ts', import.meta.url)), requestArgs(request));
  const outcome = await runChild<StepTiming>(command, args, { timeoutMs: 600_000 });
  if (!outcome.ok) return outcome;
  return { ok: true, value: { samplesPerSecond: roundRates(outcome.value.roundsMs, outcome.value.batchSize).median, paramCount: outcome.value.paramCount } };
}

/**
 * Two reference trainers at once, each the whole job on its own, nothing exchanged: what two
 * processes of this model get from this machine's two cores (their rates added). No
 * data-parallel run can beat it; its speed-up over one trainer is the ceiling for 2 workers.
 */
async function measureTrainPair(model: BenchModel, steps: number): Promise<Row['outcome']> {
  const [a, b] = await Promise.all([measureTrain(model, steps), measureTrain(model, steps)]);
  if (!a.ok) return a;
  if (!b.ok) return b;
  return { ok: true, value: { samplesPerSecond: a.value.samplesPerSecond + b.value.samplesPerSecond, paramCount: a.value.paramCount } };
}

async function measureCluster(model: BenchModel, workers: number, steps: number, colocate = false): Promise<Row['outcome']> {
  const outcome = await measureLocal({ model, workers, steps, batchSize, microBatchSize, ...(colocate ? { extraArgs: ['--colocate'] } : {}) });
  if (!outcome.ok) return outcome;
  return {
    ok: true,
    value: { samplesPerSecond: outcome.value.steadySamplesPerSecond, paramCount: outcome.value.paramCount, split: outcome.value.timingPerStepMs },
  };
}

async function measureTorch(model: BenchModel, worldSize: number, steps: number): Promise<Row['outcome']> {
  const script = fileURLToPath(new URL('./cluster/torch_ddp.py', import.meta.url));
  return runChild(
    TORCH_PYTHON,
    [
      script,
      '--model',
      model,
      '--world-size',
      String(worldSize),
      '--batch-size',
      String(batchSize),
      '--warmup',
      String(Math.max(5, Math.floor(steps / 10))),
      '--steps',
      String(steps),
    ],
    {
      timeoutMs: 600_000,
    },
  );
}

const started = performance.now();
const rows: Row[] = [];
for (const model of flags.models as BenchModel[]) {
  const steps = model === 'mlp' ? flags['mlp-steps'] : flags['cnn-steps'];
  const plan: [string, () => Promise<Row['outcome']>][] = [
    ['dptrain train (one process)', () => measureTrain(model, steps)],
    ['2 × dptrain train at once (ceiling)', () => measureTrainPair(model, steps)],
    ['dptrain local --workers 1', () => measureCluster(model, 1, steps)],
    ['dptrain local --workers 2', () => measureCluster(model, 2, steps)],
    ['dptrain local --workers 4 (oversubscribed)', () => measureCluster(model, 4, steps)],
    ['dptrain local --colocate --workers 1', () => measureCluster(model, 1, steps, true)],
    ['dptrain local --colocate --workers 2', () => measureCluster(model, 2, steps, true)],
    ['dptrain local --colocate --workers 4 (oversubscribed)', () => measureCluster(model, 4, steps, true)],
    ...(torch
      ? ([
          ['PyTorch, one process', () => measureTorch(model, 1, steps * 2)],
          ['PyTorch DDP gloo, 2 processes', () => measureTorch(model, 2, steps * 2)],
        ] as [string, () => Promise<Row['outcome']>][])
      : []),
  ];
  for (const [label, run] of plan) {
    process.stderr.write(`${model}: ${label}\n`);
    rows.push({ model, label, outcome: await run() });
  }
}

/** Wire: push N floats + ack, then pull + N floats back, through @dptrain/protocol and as raw ws frames. */
interface WireRow {
  readonly payload: string;
  readonly floats: number;
  /** Raw ws with its default random masking key. */
  readonly rawMBps: number;
  /** Raw ws with the all-zero key dptrain's clients use (no masking pass): the like-for-like baseline. */
  readonly rawZeroMBps: number;
  readonly oursMBps: number;
}
const wireRows: WireRow[] = [];
for (const model of flags.models as BenchModel[]) {
  const floats = rows.find((r) => r.model === model && r.outcome.ok)?.outcome;
  if (!floats?.ok) continue;
  const n = floats.value.paramCount;
  const raw = await rawPair(n);
  const rawZero = await rawPair(n, { zeroMask: true });
  const ours = await dptrainPair(n);
  await timeRounds(raw.round, 3);
  await timeRounds(rawZero.round, 3);
  await timeRounds(ours.round, 3);
  const rawMs: number[] = [];
  const rawZeroMs: number[] = [];
  const ourMs: number[] = [];
  for (let rep = 0; rep < flags['wire-reps']; rep++) {
    rawMs.push((await timeRounds(raw.round, 8)).wallMs);
    rawZeroMs.push((await timeRounds(rawZero.round, 8)).wallMs);
    ourMs.push((await timeRounds(ours.round, 8)).wallMs);
  }
  await raw.close();
  await rawZero.close();
  await ours.close();
  wireRows.push({
    payload: `${model} gradient + parameters`,
    floats: n,
    rawMBps: (8 * n) / 1e3 / median(rawMs),
    rawZeroMBps: (8 * n) / 1e3 / median(rawZeroMs),
    oursMBps: (8 * n) / 1e3 / median(ourMs),
  });
}

const rateOf = (model: BenchModel, label: string): number | undefined => {
  const row = rows.find((r) => r.model === model && r.label === label);
  return row?.outcome.ok ? row.outcome.value.samplesPerSecond : undefined;
};
const ms = (split: Split | undefined, key: keyof Split): string => (split ? split[key].toFixed(1) : '—');
const columns: Column<Row>[] = [
  { header: 'model', cell: (r) => r.model },
  { header: 'run', cell: (r) => r.label },
  { header: 'samples/s', align: 'right', cell: (r) => (r.outcome.ok ? formatCount(r.outcome.value.samplesPerSecond) : `failed: ${r.outcome.reason}`) },
  {
    header: 'speed-up',
    align: 'right',
    cell: (r) => {
      const layout = r.label.includes('--colocate') ? 'dptrain local --colocate' : 'dptrain local';
      const base = r.label.startsWith('PyTorch')
        ? rateOf(r.model, 'PyTorch, one process')
        : /--workers [24]/.test(r.label)
          ? rateOf(r.model, `${layout} --workers 1`)
          : rateOf(r.model, 'dptrain train (one process)');
      return r.outcome.ok && base ? formatRatio(r.outcome.value.samplesPerSecond / base) : '—';
    },
  },
  { header: 'compute ms/step', align: 'right', cell: (r) => ms(r.outcome.ok ? r.outcome.value.split : undefined, 'computeMs') },
  { header: 'pull', align: 'right', cell: (r) => ms(r.outcome.ok ? r.outcome.value.split : undefined, 'pullMs') },
  { header: 'push', align: 'right', cell: (r) => ms(r.outcome.ok ? r.outcome.value.split : undefined, 'pushMs') },
  { header: 'waiting', align: 'right', cell: (r) => ms(r.outcome.ok ? r.outcome.value.split : undefined, 'waitMs') },
];

const [load1] = loadavg();
console.log(
  `\nbench:cluster — Fashion-MNIST, Adam lr 0.001, global batch ${batchSize}, dptrain micro-batch ${microBatchSize}, wasm backend; ${availableParallelism()} cores, load average ${load1.toFixed(2)} at the end; Node ${process.version}`,
);
console.log(
  [
    'Steady state: process start-up, data loading and evaluation are not timed. dptrain train: median over 5 rounds after a warm-up;',
    'dptrain local: the steps after the first 10%, median of 5 rounds (coordinator clock, evaluation excluded); PyTorch: rank 0 after a warm-up.',
    'speed-up: train → itself; 2 × train at once (two trainers side by side, nothing exchanged: the most two processes get from these cores) → vs train;',
    '  --workers 1 → vs train; --workers 2 and 4 → vs --workers 1 of the same layout; DDP → vs PyTorch one process.',
    'Layouts: dptrain local runs psShards = 1 parameter-server process; --colocate: each worker also serves one shard (no parameter-server process).',
    '4 workers on 2 cores are oversubscribed: that row shows what contention costs, not what 4 machines would give.',
    'Time split: the average worker per step (compute = forward + backward; pull and push = waiting on the shard; waiting = idle between leases).\n',
  ].join('\n'),
);
console.log(formatTable(columns, rows));
console.log(
  "\nWire: one round = push N floats (small ack back) + pull (N floats back); MB/s = 8·N bytes / median round time. dptrain's clients mask with an all-zero key (no masking pass, libs/protocol/src/client.ts): the target compares with raw ws doing the same; ws's default random key is shown beside it.\n",
);
console.log(
  formatTable<WireRow>(
    [
      { header: 'payload', cell: (w) => w.payload },
      { header: 'floats', align: 'right', cell: (w) => formatCount(w.floats) },
      { header: 'raw ws MB/s (random mask)', align: 'right', cell: (w) => formatCount(w.rawMBps) },
      { header: 'raw ws MB/s (zero mask)', align: 'right', cell: (w) => formatCount(w.rawZeroMBps) },
      { header: 'dptrain push+pull MB/s', align: 'right', cell: (w) => formatCount(w.oursMBps) },
      { header: 'ratio (zero mask)', align: 'right', cell: (w) => formatRatio(w.oursMBps / w.rawZeroMBps) },
      { header: 'ratio (random mask)', align: 'right', cell: (w) => formatRatio(w.oursMBps / w.rawMBps) },
    ],
    wireRows,
  ),
);

console.log('\nTargets:');
const verdict = (ok: boolean | undefined): string => (ok === undefined ? 'n/a ' : ok ? 'PASS' : 'MISS');
for (const model of flags.models as BenchModel[]) {
  const train = rateOf(model, 'dptrain train (one process)');
  const t1 = rateOf(model, 'PyTorch, one process');
  const ddp = rateOf(model, 'PyTorch DDP gloo, 2 processes');
  const rDdp = t1 && ddp ? ddp / t1 : undefined;
  const pair = rateOf(model, '2 × dptrain train at once (ceiling)');
  const ceiling = train && pair ? pair / train : undefined;
  const vsTorch = train && t1 ? train / t1 : undefined;
  if (model === 'cnn')
    console.log(
      `  ${verdict(vsTorch === undefined ? undefined : vsTorch >= 0.8)} ${model}: dptrain train ÷ PyTorch one process (the moonshot, ≥ 0.8×): ${vsTorch === undefined ? '—' : formatRatio(vsTorch)}`,
    );
  for (const layout of ['dptrain local', 'dptrain local --colocate']) {
    const one = rateOf(model, `${layout} --workers 1`);
    const two = rateOf(model, `${layout} --workers 2`);
    const r1 = train && one ? one / train : undefined;
    const r2 = one && two ? two / one : undefined;
    const rTrain = train && two ? two / train : undefined;
    const name = `${model}, ${layout.replace('dptrain local', 'local') || 'local'}`;
    console.log(`  ${verdict(r1 === undefined ? undefined : r1 >= 0.9)} ${name}: 1 worker ≥ 0.9× dptrain train: ${r1 === undefined ? '—' : formatRatio(r1)}`);
    console.log(
      `  ${verdict(rTrain === undefined ? undefined : rTrain > 1)} ${name}: 2 workers faster than dptrain train: ${rTrain === undefined ? '—' : formatRatio(rTrain)}`,
    );
    console.log(
      `  ${verdict(r2 === undefined || rDdp === undefined ? undefined : r2 >= rDdp)} ${name}: 2-worker speed-up ≥ DDP's: ${r2 === undefined ? '—' : formatRatio(r2)} vs ${rDdp === undefined ? '—' : formatRatio(rDdp)} (two trainers side by side: ${ceiling === undefined ? '—' : formatRatio(ceiling)})`,
    );
  }
}
for (const w of wireRows)
  console.log(
    `  ${verdict(w.oursMBps / w.rawZeroMBps >= 0.8)} wire, ${w.payload}: push+pull ≥ 0.8× raw ws with the same (zero) mask: ${formatRatio(w.oursMBps / w.rawZeroMBps)}`,
  );
console.log(`\n${rows.length} runs in ${((performance.now() - started) / 1000).toFixed(0)} s.`);
