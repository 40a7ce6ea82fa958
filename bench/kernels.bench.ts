// What the wasm training kernels (libs/model/src/kernels) buy: one training step — forward and
// backward with tf.grads, gradients read back into JavaScript — of a small CNN, batch 64, on
// TensorFlow.js's cpu backend, on wasm with only the kernel it lacks added, on wasm with all of
// ours, and in PyTorch (one thread, forward + backward), all measured in this run. Then where a
// wasm step spends its time, kernel by kernel.
//
//   npx tsx bench/kernels.bench.ts
//   npx tsx bench/kernels.bench.ts --nets 16 --steps 40 --no-torch
//
// Nets (NHWC 28×28×1 input, 10 classes): per entry c of the net name, conv3×3 'same' (no bias) →
// batch norm → ReLU → maxpool 2×2; then flatten → dense. `16` is the small CNN of FACTS.md (the
// issue's target: wasm ≥ 0.3× PyTorch), `16-32` @dptrain/model's default CNN, whose second conv
// also needs the gradient of its input. Each row is its own child process (kernel registrations
// are global and cannot be undone). The rows of a net take turns (bench/lib/turns.ts): a warm-up
// turn each, then interleaved timed rounds, so load from other processes spreads evenly over
// them; a row's rate is the median over its rounds. The cpu backend runs one step per round and
// only for net 16 unless --cpu-all-nets (net 16-32 takes ~14 s a step there).
import { fileURLToPath } from 'node:url';
import { initBackend } from '@dptrain/backend';
import { batchNormTrain, registerTrainingGradients, softmaxCrossEntropy } from '@dptrain/model';
import * as tf from '@tensorflow/tfjs-core';
import { registerWasmTrainingKernels } from '@dptrain/model';
import { flagHelp, parseFlags, type FlagSpec } from './lib/args.js';
import { reportToParent, runChild, tsxCommand, type ChildCommand, type ChildOutcome } from './lib/child.js';
import { roundRates } from './lib/stats.js';
import { formatCount, formatRatio, formatTable } from './lib/table.js';
import { TurnTaker, WAITING_MARKER, runInTurns } from './lib/turns.js';
import { TORCH_PYTHON } from './train/plan.js';

const NETS = ['16', '16-32'] as const;
const ROWS = ['cpu', 'wasm-missing', 'wasm-all', 'torch'] as const;
type Row = (typeof ROWS)[number];

const ROW_LABELS: Record<Row, string> = {
  cpu: 'tfjs cpu backend (its own kernels)',
  'wasm-missing': 'tfjs wasm + Conv2DBackpropFilter only',
  'wasm-all': 'tfjs wasm + all dptrain kernels',
  torch: 'PyTorch, 1 thread',
};

const FLAGS = {
  nets: { kind: 'list', help: 'nets to measure', default: [...NETS], choices: NETS },
  rows: { kind: 'list', help: 'implementations', default: [...ROWS], choices: ROWS },
  steps: { kind: 'int', help: 'timed steps per round (wasm, PyTorch; the cpu backend runs 1)', default: 6 },
  rounds: { kind: 'int', help: 'timed rounds per row', default: 5 },
  warmup: { kind: 'int', help: 'untimed steps before the timing (the cpu backend runs 1)', default: 3 },
  'cpu-all-nets': { kind: 'boolean', help: 'run the cpu backend on every net, not only on 16', default: false },
  'no-torch': { kind: 'boolean', help: 'skip the PyTorch rows', default: false },
  'no-profile': { kind: 'boolean', help: 'skip the per-kernel breakdown', default: false },
  help: { kind: 'boolean', help: 'print this help', default: false },
  // Internal: the parent starts this file again with these to measure one row.
  child: { kind: 'list', help: 'internal: measure one row and report it', default: [], choices: [...ROWS, 'profile'] },
} satisfies Record<string, FlagSpec>;

const BATCH = 64;
const CLASSES = 10;

interface Timing {
  /** Per round: its start, then the end of each of its steps (ms, monotonic clock). */
  readonly roundsMs: readonly (readonly number[])[];
}

interface KernelShare {
  readonly name: string;
  readonly ms: number;
  readonly calls: number;
}

/** Mulberry32, uniform in [−1, 1). */
function uniform(count: number, seed: number): Float32Array {
  let a = seed >>> 0;
  const out = new Float32Array(count);
  for (let i = 0; i < count; i++) {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), a | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    out[i] = (((t ^ (t >>> 14)) >>> 0) / 4294967296) * 2 - 1;
  }
  return out;
}

/** A training step of net `name` on the current backend: returns the gradients, read back. */
function makeStep(name: string): () => Float32Array[] {
  const channels = name.split('-').map(Number);
  const x = tf.tensor4d(
    uniform(BATCH * 28 * 28, 1).map((v) => (v + 1) / 2),
    [BATCH, 28, 28, 1],
  );
  const labels = tf.oneHot(
    tf.tensor1d(
      Array.from({ length: BATCH }, (_, i) => i % CLASSES),
      'int32',
    ),
    CLASSES,
  ) as tf.Tensor2D;
  const params: tf.Tensor[] = [];
  let inC = 1;
  let size = 28;
  channels.forEach((outC, i) => {
    const bound = Math.sqrt(6 / (9 * inC));
    params.push(
      tf.tensor4d(
        uniform(9 * inC * outC, 10 + i).map((v) => v * bound),
        [3, 3, inC, outC],
      ),
      tf.ones([outC]),
      tf.zeros([outC]),
    );
    [inC, size] = [outC, Math.floor(size / 2)];
  });
  const features = size * size * inC;
  params.push(
    tf.tensor2d(
      uniform(features * CLASSES, 99).map((v) => v * Math.sqrt(6 / (features + CLASSES))),
      [features, CLASSES],
    ),
    tf.zeros([CLASSES]),
  );

  return () => {
    const moments: tf.Tensor[] = [];
    const grads = tf.tidy(() =>
      tf.grads((...p: tf.Tensor[]) => {
        let h: tf.Tensor = x;
        channels.forEach((_, i) => {
          const bn = batchNormTrain(
            tf.conv2d(h as tf.Tensor4D, p[3 * i] as tf.Tensor4D, 1, 'same'),
            p[3 * i + 1] as tf.Tensor1D,
            p[3 * i + 2] as tf.Tensor1D,
            1e-5,
          );
          moments.push(bn.mean, bn.variance);
          h = tf.maxPool(tf.relu(bn.y) as tf.Tensor4D, 2, 2, 'valid');
        });
        const logits = tf.add(tf.matMul(tf.reshape(h, [BATCH, features]), p[p.length - 2] as tf.Tensor2D), p[p.length - 1]!) as tf.Tensor2D;
        return softmaxCrossEntropy(logits, labels);
      })(params),
    );
    const values = grads.map((g) => g.dataSync() as Float32Array);
    tf.dispose([...grads, ...moments]);
    return values;
  };
}

async function prepare(row: Row): Promise<void> {
  registerTrainingGradients();
  if (row === 'cpu') {
    await initBackend('cpu');
    return;
  }
  registerWasmTrainingKernels({ replace: row === 'wasm-all' });
  await initBackend('wasm');
}

/** Set-up untimed, then one turn of warm-up, then `rounds` turns of `steps` timed steps. */
async function measureChild(row: Row, net: string, warmup: number, steps: number, rounds: number): Promise<Timing> {
  const turns = new TurnTaker(true);
  await prepare(row);
  const step = makeStep(net);
  await turns.next();
  for (let i = 0; i < warmup; i++) step();
  const roundsMs: number[][] = [];
  for (let r = 0; r < rounds; r++) {
    await turns.next();
    const marks = [performance.now()];
    for (let i = 0; i < steps; i++) {
      step();
      marks.push(performance.now());
    }
    roundsMs.push(marks);
  }
  return { roundsMs };
}

/** Steps averaged in the per-kernel breakdown. */
const PROFILED_STEPS = 5;

/** Per-kernel milliseconds per step, over PROFILED_STEPS steps (tf.profile times each kernel, synchronously on wasm). */
async function profileChild(row: Row, net: string, warmup: number): Promise<KernelShare[]> {
  await prepare(row);
  const step = makeStep(net);
  for (let i = 0; i < warmup; i++) step();
  const info = await tf.profile(() => {
    for (let i = 0; i < PROFILED_STEPS; i++) step();
  });
  const byName = new Map<string, { ms: number; calls: number }>();
  // Custom-gradient ops are listed too, with their inner kernels' time: count kernels only.
  for (const k of info.kernels.filter((k) => tf.getKernel(k.name, tf.getBackend()) !== undefined)) {
    const entry = byName.get(k.name) ?? { ms: 0, calls: 0 };
    entry.ms += k.kernelTimeMs as number;
    entry.calls += 1;
    byName.set(k.name, entry);
  }
  return [...byName].map(([name, v]) => ({ name, ms: v.ms / PROFILED_STEPS, calls: v.calls / PROFILED_STEPS })).sort((a, b) => b.ms - a.ms);
}

/** The PyTorch step: same net (NCHW, its native layout), forward + backward, nothing read back. */
const TORCH_SCRIPT = `
import json, sys, time
import torch
import torch.nn as nn
import torch.nn.functional as F
channels, warmup, steps, rounds = [int(c) for c in sys.argv[1].split("-")], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
def turn():
    sys.stdout.write("\\n${WAITING_MARKER}\\n")
    sys.stdout.flush()
    if sys.stdin.readline().strip() != "go":
        raise SystemExit("the parent ended the turns early")
torch.set_num_threads(1)
torch.manual_seed(1)
layers, in_c, size = [], 1, 28
for out_c in channels:
    layers += [nn.Conv2d(in_c, out_c, 3, padding=1, bias=False), nn.BatchNorm2d(out_c, eps=1e-5), nn.ReLU(), nn.MaxPool2d(2)]
    in_c, size = out_c, size // 2
model = nn.Sequential(*layers, nn.Flatten(), nn.Linear(in_c * size * size, ${CLASSES}))
x, y = torch.rand(${BATCH}, 1, 28, 28), torch.arange(${BATCH}) % ${CLASSES}
def step():
    model.zero_grad(set_to_none=True)
    F.cross_entropy(model(x), y).backward()
turn()
for _ in range(warmup):
    step()
rounds_ms = []
for _ in range(rounds):
    turn()
    marks = [time.perf_counter() * 1000]
    for _ in range(steps):
        step()
        marks.append(time.perf_counter() * 1000)
    rounds_ms.append(marks)
print("\\n@@bench-result " + json.dumps({"ok": True, "value": {"roundsMs": rounds_ms}}))
`;

function rowCommand(row: Row, net: string, warmup: number, steps: number, rounds: number): ChildCommand {
  const counts = [String(warmup), String(steps), String(rounds)];
  if (row === 'torch') return { command: TORCH_PYTHON, args: ['-c', TORCH_SCRIPT, net, ...counts] };
  return tsxCommand(fileURLToPath(import.meta.url), ['--child', row, '--nets', net, '--warmup', counts[0]!, '--steps', counts[1]!, '--rounds', counts[2]!]);
}

async function runProfile(row: Row, net: string, warmup: number): Promise<ChildOutcome<KernelShare[]>> {
  const { command, args } = tsxCommand(fileURLToPath(import.meta.url), ['--child', 'profile', '--rows', row, '--nets', net, '--warmup', String(warmup)]);
  return runChild<KernelShare[]>(command, args);
}

async function main(): Promise<void> {
  const flags = parseFlags(process.argv.slice(2), FLAGS);
  if (flags.help) {
    console.log(`npx tsx bench/kernels.bench.ts [flags]\n${flagHelp(FLAGS)}`);
    return;
  }
  const [child] = flags.child;
  if (child === 'profile') return reportToParent(() => profileChild(flags.rows[0] as Row, flags.nets[0]!, flags.warmup));
  if (child !== undefined) return reportToParent(() => measureChild(child as Row, flags.nets[0]!, flags.warmup, flags.steps, flags.rounds));

  console.log(
    `One training step (forward + backward, gradients read back), batch ${BATCH}. Rows of a net take turns: ` +
      `${flags.warmup} warm-up steps, then ${flags.rounds} interleaved rounds of ${flags.steps} steps (cpu: 1); median over rounds.\n`,
  );
  for (const net of flags.nets) {
    const rows = (flags.rows as Row[]).filter((r) => !(r === 'torch' && flags['no-torch']) && !(r === 'cpu' && net !== '16' && !flags['cpu-all-nets']));
    const commands = rows.map((row) =>
      row === 'cpu' ? rowCommand(row, net, 1, 1, flags.rounds) : rowCommand(row, net, flags.warmup, flags.steps, flags.rounds),
    );
    process.stderr.write(`net ${net}: ${rows.join(', ')}\n`);
    const outcomes = await runInTurns<Timing>(commands, { turns: flags.rounds + 1 });
    const measured = rows.map((row, i) => {
      const outcome = outcomes[i]!;
      if (!outcome.ok) return { row, note: `failed: ${outcome.reason}` };
      const rates = roundRates(outcome.value.roundsMs, BATCH);
      return { row, rate: rates.median, note: `${formatCount(rates.min)}–${formatCount(rates.max)}` };
    });
    const rateOf = (row: Row) => measured.find((m) => m.row === row)?.rate;
    const ratio = (a: number | undefined, b: number | undefined) => (a === undefined || b === undefined ? '—' : formatRatio(a / b));
    console.log(`Net conv ${net.replaceAll('-', ' → ')} (28×28×1 → 10 classes)\n`);
    console.log(
      formatTable(
        [
          { header: 'implementation', cell: (m) => ROW_LABELS[m.row] },
          { header: 'ms/step', cell: (m) => (m.rate === undefined ? '—' : ((BATCH * 1000) / m.rate).toFixed(1)), align: 'right' },
          { header: 'samples/s', cell: (m) => (m.rate === undefined ? '—' : formatCount(m.rate)), align: 'right' },
          { header: 'vs cpu', cell: (m) => ratio(m.rate, rateOf('cpu')), align: 'right' },
          { header: 'vs PyTorch', cell: (m) => ratio(m.rate, rateOf('torch')), align: 'right' },
          { header: 'rounds min–max', cell: (m) => m.note },
        ],
        measured,
      ),
    );
    const ours = rateOf('wasm-all');
    const torch = rateOf('torch');
    if (net === '16' && ours !== undefined && torch !== undefined) {
      console.log(`\nTarget (issue): wasm ≥ 0.30× PyTorch single-thread — ${ours / torch >= 0.3 ? 'met' : 'NOT met'} (${formatRatio(ours / torch)}).`);
    }
    console.log('');
  }

  if (flags['no-profile']) return;
  const net = flags.nets[0]!;
  for (const row of ['wasm-missing', 'wasm-all'] as const) {
    const outcome = await runProfile(row, net, flags.warmup);
    console.log(
      `Where a step's kernel time goes: net conv ${net.replaceAll('-', ' → ')}, ${ROW_LABELS[row]} (tf.profile, mean of ${PROFILED_STEPS} steps; adds overhead)\n`,
    );
    if (!outcome.ok) {
      console.log(`failed: ${outcome.reason}\n`);
      continue;
    }
    const total = outcome.value.reduce((s, k) => s + k.ms, 0);
    const top = outcome.value.slice(0, 10);
    console.log(
      formatTable(
        [
          { header: 'kernel', cell: (k) => k.name },
          { header: 'calls', cell: (k) => String(k.calls), align: 'right' },
          { header: 'ms', cell: (k) => k.ms.toFixed(2), align: 'right' },
          { header: 'share', cell: (k) => `${((100 * k.ms) / total).toFixed(0)}%`, align: 'right' },
        ],
        [...top, { name: `all ${outcome.value.length} kernels`, calls: outcome.value.reduce((s, k) => s + k.calls, 0), ms: total }],
      ),
    );
    console.log('');
  }
}

await main();
