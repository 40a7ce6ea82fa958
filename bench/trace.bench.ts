// What `--trace` costs: the same `dptrain local` job with and without it, in alternating runs.
//
//   npm run bench:trace
//   npm run bench:trace -- --model cnn --steps 100 --rounds 5
//
// Each round runs the job twice, once untraced and once with `--trace DIR` (the order swaps from
// one round to the next, so neither side always gets the machine's quieter minute). A run's rate is
// summary.json's steady-state clock (the steps after the first 10%, evaluation excluded); the table
// gives each side's median over the rounds, the ratio of the medians, and what the traced runs wrote.
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { readBenchFlags, type FlagSpec } from './lib/args.js';
import { median } from './lib/stats.js';
import { formatCount, formatRatio, formatTable } from './lib/table.js';
import { measureLocal } from './cluster/measure-local.js';

const MODELS = ['mlp', 'cnn'] as const;
const FLAGS = {
  model: { kind: 'list', help: 'the model of the job (one)', default: ['mlp'], choices: MODELS },
  steps: { kind: 'int', help: 'steps of each run (the first 10% are not timed)', default: 300 },
  workers: { kind: 'int', help: 'workers of each run', default: 2 },
  rounds: { kind: 'int', help: 'rounds, each one run without and one with --trace', default: 3 },
  'batch-size': { kind: 'int', help: 'samples per step', default: 64 },
  'micro-batch-size': { kind: 'int', help: 'samples per micro-batch (a compute span each)', default: 16 },
  help: { kind: 'boolean', help: 'print this help', default: false },
} satisfies Record<string, FlagSpec>;

const flags = readBenchFlags('trace', FLAGS);
const model = flags.model[0] as (typeof MODELS)[number];
const job = { model, workers: flags.workers, steps: flags.steps, batchSize: flags['batch-size'], microBatchSize: flags['micro-batch-size'] };

/** What one traced run wrote: lines (events) and bytes over its files. */
function traceSize(dir: string): { events: number; bytes: number } {
  let events = 0;
  let bytes = 0;
  for (const name of readdirSync(dir).filter((n) => n.endsWith('.trace.jsonl'))) {
    const text = readFileSync(join(dir, name), 'utf8');
    bytes += Buffer.byteLength(text);
    events += text.split('\n').filter((l) => l !== '').length;
  }
  return { events, bytes };
}

async function run(traced: boolean): Promise<{ samplesPerSecond: number; events?: number; bytes?: number }> {
  const dir = traced ? mkdtempSync(join(tmpdir(), 'bench-trace-')) : undefined;
  try {
    const outcome = await measureLocal({ ...job, ...(dir ? { extraArgs: ['--trace', dir] } : {}) });
    if (!outcome.ok) throw new Error(`dptrain local${traced ? ' --trace' : ''} failed: ${outcome.reason}`);
    return { samplesPerSecond: outcome.value.steadySamplesPerSecond, ...(dir ? traceSize(dir) : {}) };
  } finally {
    if (dir) rmSync(dir, { recursive: true, force: true });
  }
}

const started = performance.now();
const plain: number[] = [];
const traced: number[] = [];
let events = 0;
let bytes = 0;
for (let round = 0; round < flags.rounds; round++) {
  for (const on of round % 2 === 0 ? [false, true] : [true, false]) {
    process.stderr.write(`round ${round + 1}/${flags.rounds}: dptrain local${on ? ' --trace' : ''}\n`);
    const result = await run(on);
    (on ? traced : plain).push(result.samplesPerSecond);
    events += result.events ?? 0;
    bytes += result.bytes ?? 0;
  }
}

interface Row {
  readonly label: string;
  readonly rates: number[];
  readonly perStep?: { events: number; bytes: number };
}
const base = median(plain);
const runs = flags.rounds * flags.steps;
const rows: Row[] = [
  { label: `dptrain local --workers ${job.workers}`, rates: plain },
  { label: `dptrain local --workers ${job.workers} --trace DIR`, rates: traced, perStep: { events: events / runs, bytes: bytes / runs } },
];
const [load1] = loadavg();
console.log(
  `\nbench:trace — Fashion-MNIST ${model}, Adam, batch ${job.batchSize}, micro-batch ${job.microBatchSize}, ${job.steps} steps, wasm backend, ${flags.rounds} rounds; ${availableParallelism()} cores, load average ${load1.toFixed(2)} at the end; Node ${process.version}\n`,
);
console.log(
  formatTable<Row>(
    [
      { header: 'run', cell: (r) => r.label },
      { header: 'samples/s (median)', align: 'right', cell: (r) => formatCount(median(r.rates)) },
      { header: 'rounds min–max', align: 'right', cell: (r) => `${formatCount(Math.min(...r.rates))}–${formatCount(Math.max(...r.rates))}` },
      { header: 'ratio', align: 'right', cell: (r) => formatRatio(median(r.rates) / base) },
      { header: 'trace events/step', align: 'right', cell: (r) => (r.perStep ? r.perStep.events.toFixed(1) : '—') },
      { header: 'trace KB/step', align: 'right', cell: (r) => (r.perStep ? (r.perStep.bytes / 1024).toFixed(2) : '—') },
    ],
    rows,
  ),
);
const paired = traced.map((t, i) => t / plain[i]);
console.log(`\nper round, traced ÷ untraced: ${paired.map(formatRatio).join(', ')} (median ${formatRatio(median(paired))})`);
console.log(`${2 * flags.rounds} runs in ${((performance.now() - started) / 1000).toFixed(0)} s.`);
