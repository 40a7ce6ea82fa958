// Training throughput of dptrain's reference trainer (what `dptrain train` runs) next to a plain
// TensorFlow.js loop (`tf.train.adam(0.001).minimize`) on the same model, batch and backend, and
// next to PyTorch on the CPU with one thread: samples per second on Fashion-MNIST, all measured
// in this run.
//
//   npm run bench:train
//   npm run bench:train -- --models mlp --backends wasm
//   npm run bench:train -- --steps 20 --no-torch        # the same timed steps for every row
//
// Each row is one child process (bench/train/measure-*.ts, bench/train/torch_train.py). The rows of
// one model start together, load their data in parallel, then take turns (bench/lib/turns.ts):
// every row runs its warm-up, then every row its first timed round, and so on, one at a time; a
// row's rate is the median over its rounds. Start-up, data loading and evaluation are not timed.
import { availableParallelism, loadavg } from 'node:os';
import { spawnSync } from 'node:child_process';
import { readBenchFlags, type FlagSpec } from './lib/args.js';
import { roundRates } from './lib/stats.js';
import { runInTurns } from './lib/turns.js';
import { formatCount, formatRatio, formatTable, type Column } from './lib/table.js';
import { checkTargets, ratioToTfjs, ratioToTorch, type MeasuredRow } from './train/compare.js';
import { BACKENDS, MODELS, type BenchModel, type StepTiming } from './train/measurement.js';
import { DEFAULT_STEPS, describeSteps, IMPLEMENTATION_LABELS, planRows, TORCH_PYTHON, type PlannedRow } from './train/plan.js';

const FLAGS = {
  models: { kind: 'list', help: 'models to measure', default: [...MODELS], choices: MODELS },
  backends: { kind: 'list', help: 'TensorFlow.js backends', default: [...BACKENDS], choices: BACKENDS },
  steps: { kind: 'int', help: `timed steps per round of every row (by default ${describeSteps(DEFAULT_STEPS)})` },
  rounds: { kind: 'int', help: 'timed rounds of every row', default: 5 },
  warmup: { kind: 'int', help: 'untimed steps before the timing', default: 5 },
  'batch-size': { kind: 'int', help: 'samples per step', default: 64 },
  'micro-batch-size': { kind: 'int', help: "dptrain's second row: samples per micro-batch", default: 16 },
  'cpu-cnn': { kind: 'boolean', help: 'also the CNN on the cpu backend (about 30 samples/s: minutes per row)', default: false },
  'no-torch': { kind: 'boolean', help: 'skip the PyTorch rows', default: false },
  help: { kind: 'boolean', help: 'print this help', default: false },
} satisfies Record<string, FlagSpec>;

const flags = readBenchFlags('train', FLAGS, (values) => {
  if (values['batch-size'] % values['micro-batch-size'] !== 0) {
    throw new RangeError(`--micro-batch-size ${values['micro-batch-size']} does not divide --batch-size ${values['batch-size']}; pick a divisor such as 16`);
  }
});

function torchAvailable(): boolean {
  if (flags['no-torch']) return false;
  const probe = spawnSync(TORCH_PYTHON, ['-c', 'import torch, numpy'], { encoding: 'utf8' });
  if (probe.status === 0) return true;
  console.log(`PyTorch rows skipped: ${TORCH_PYTHON} cannot import torch and numpy (apt-get install python3-torch python3-numpy).`);
  return false;
}

const plan = planRows({
  models: flags.models as BenchModel[],
  backends: flags.backends as (typeof BACKENDS)[number][],
  steps: flags.steps === undefined ? DEFAULT_STEPS : { mlp: { wasm: flags.steps, cpu: flags.steps }, cnn: { wasm: flags.steps, cpu: flags.steps } },
  rounds: flags.rounds,
  warmup: flags.warmup,
  batchSize: flags['batch-size'],
  microBatchSize: flags['micro-batch-size'],
  cpuCnn: flags['cpu-cnn'],
  torch: torchAvailable(),
  seed: 1,
});

const started = performance.now();
const rows: MeasuredRow[] = [];
const labelOf = (row: PlannedRow): string =>
  `${row.request.model} ${row.backendLabel} ${IMPLEMENTATION_LABELS[row.implementation]}${row.implementation === 'dptrain' ? ` micro-batch ${row.request.microBatchSize}` : ''}`;
for (const model of flags.models as BenchModel[]) {
  const group = plan.filter((row) => row.request.model === model);
  process.stderr.write(`${model}: starting ${group.length} processes:\n${group.map((row) => `  ${labelOf(row)}\n`).join('')}`);
  const outcomes = await runInTurns<StepTiming>(group, {
    turns: flags.rounds + 1,
    onTurn: (i, turn) => {
      if (i === 0) process.stderr.write(`${model}: ${turn === 0 ? 'warm-up' : `round ${turn}/${flags.rounds}`}\n`);
    },
  });
  group.forEach((row, i) => {
    const outcome = outcomes[i];
    rows.push(outcome.ok ? { ...row, outcome, rates: roundRates(outcome.value.roundsMs, outcome.value.batchSize) } : { ...row, outcome });
  });
}

const orDash = (value: number | undefined, format: (v: number) => string): string => (value === undefined ? '—' : format(value));
const columns: Column<MeasuredRow>[] = [
  { header: 'model', cell: (r) => r.request.model },
  { header: 'backend', cell: (r) => r.backendLabel },
  { header: 'implementation', cell: (r) => IMPLEMENTATION_LABELS[r.implementation] },
  {
    header: 'batch/micro-batch',
    cell: (r) => (r.implementation === 'dptrain' ? `${r.request.batchSize}/${r.request.microBatchSize}` : `${r.request.batchSize}`),
  },
  { header: 'params', align: 'right', cell: (r) => (r.outcome.ok ? formatCount(r.outcome.value.paramCount) : '—') },
  { header: 'samples/s', align: 'right', cell: (r) => (r.rates ? formatCount(r.rates.median) : `failed: ${r.outcome.ok ? '' : r.outcome.reason}`) },
  { header: 'rounds min–max', align: 'right', cell: (r) => (r.rates ? `${formatCount(r.rates.min)}–${formatCount(r.rates.max)}` : '—') },
  { header: 'ratio vs plain tfjs', align: 'right', cell: (r) => orDash(ratioToTfjs(r, rows), formatRatio) },
  { header: 'ratio vs PyTorch', align: 'right', cell: (r) => orDash(ratioToTorch(r, rows), formatRatio) },
];

const [load1] = loadavg();
console.log(
  `\nbench:train — Fashion-MNIST, Adam lr 0.001, batch ${flags['batch-size']}; ${availableParallelism()} cores, load average ${load1.toFixed(2)} at the end; Node ${process.version}`,
);
console.log(
  [
    'Numbers are noisy: other processes share the cores. Each row is its own process; the rows of a model take turns, one',
    `at a time: ${flags.warmup} warm-up steps each, then ${flags.rounds} interleaved timed rounds each (steps per round: ${flags.steps ?? describeSteps(DEFAULT_STEPS)}).`,
    'samples/s is the median over the rounds; start-up, data loading and evaluation are not timed.',
    '"ratio vs plain tfjs": against the plain loop on the same backend with the same kernels (on wasm, dptrain\'s training',
    'kernels registered in it; stock wasm tfjs cannot train the CNN). The torch rows are all CPU, one thread.\n',
  ].join('\n'),
);
console.log(formatTable(columns, rows));
for (const row of rows) {
  for (const note of row.outcome.ok ? (row.outcome.value.notes ?? []) : [])
    console.log(`note (${row.request.model} ${IMPLEMENTATION_LABELS[row.implementation]}): ${note}`);
}
console.log(
  '\nTargets (judged on dptrain with micro-batch = batch; in parentheses, for information: the default micro-batch, and on wasm the ratio to stock tfjs):',
);
for (const check of checkTargets(rows, flags['batch-size'])) {
  const measured = check.ratio === undefined ? 'not measured' : formatRatio(check.ratio);
  const extras = [
    ...(check.microBatchedRatio === undefined ? [] : [`micro-batch ${flags['micro-batch-size']}: ${formatRatio(check.microBatchedRatio)}`]),
    ...(check.stockRatio === undefined ? [] : [`vs stock tfjs: ${formatRatio(check.stockRatio)}`]),
  ];
  console.log(`  ${check.status.padEnd(4)} ${check.label}: ${measured}${extras.length > 0 ? ` (${extras.join('; ')})` : ''}`);
}
console.log(`\n${plan.length} measurements in ${((performance.now() - started) / 1000).toFixed(0)} s.`);
