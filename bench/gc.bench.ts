// The cluster's speed epoch by epoch with the V8 flags dptrain sets for itself
// (apps/cli/src/v8-flags.ts) and with V8's defaults (DPTRAIN_V8_FLAGS=''), measured in the same
// run, with the major garbage collections every process made during each epoch.
//
//   npm run bench:gc
//   npm run bench:gc -- --epochs 5 --rounds 3
//
// Each round runs `dptrain local` (MLP, Adam, Fashion-MNIST, wasm, 1 shard) once per setting,
// the order alternating between rounds. An epoch's rate counts its steps between its first and
// its last step record, so the evaluation between epochs is not timed. Every process of a run
// loads bench/gc/gc-counter.mjs, which samples its collection counts once a second.
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readBenchFlags, type FlagSpec } from './lib/args.js';
import { median } from './lib/stats.js';
import { formatRatio, formatTable, type Column } from './lib/table.js';
import { measureLocal } from './cluster/measure-local.js';
import { collectionsDuring, epochSpans, stepRecords, stepsPerSecond, type GcSample } from './gc/epochs.js';

const FLAGS = {
  epochs: { kind: 'int', help: 'epochs of each run (937 steps each)', default: 3 },
  rounds: { kind: 'int', help: 'runs of each setting', default: 2 },
  workers: { kind: 'int', help: 'workers of each run', default: 2 },
  help: { kind: 'boolean', help: 'print this help', default: false },
} satisfies Record<string, FlagSpec>;

const flags = readBenchFlags('gc', FLAGS, (values) => {
  if (values.epochs < 2) throw new RangeError(`--epochs ${values.epochs}: give 2 or more, the collections change after the first`);
  if (values.rounds < 1) throw new RangeError(`--rounds ${values.rounds}: give 1 or more`);
});

const COUNTER = fileURLToPath(new URL('./gc/gc-counter.mjs', import.meta.url));
const SETTINGS = [
  { label: "dptrain's (--heap-growing-percent=300)", env: {} },
  { label: "V8's defaults (DPTRAIN_V8_FLAGS='')", env: { DPTRAIN_V8_FLAGS: '' } },
] as const;

/** One epoch of one run: its rate and the major collections per second of all its processes. */
interface EpochResult {
  readonly stepsPerSecond: number;
  readonly majorsPerSecond: number;
}

function readRun(out: string, gcDir: string): EpochResult[] {
  const spans = epochSpans(stepRecords(readFileSync(join(out, 'metrics.jsonl'), 'utf8')));
  const processes = readdirSync(gcDir).map((file) =>
    readFileSync(join(gcDir, file), 'utf8')
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as GcSample),
  );
  return spans.map((span) => {
    const majors = processes.reduce((sum, samples) => sum + (collectionsDuring(samples, span.startMs, span.endMs)?.major ?? 0), 0);
    return { stepsPerSecond: stepsPerSecond(span), majorsPerSecond: majors / ((span.endMs - span.startMs) / 1000) };
  });
}

async function run(env: Readonly<Record<string, string>>): Promise<EpochResult[] | string> {
  const gcDir = mkdtempSync(join(tmpdir(), 'bench-gc-'));
  let epochs: EpochResult[] = [];
  try {
    const outcome = await measureLocal({
      model: 'mlp',
      workers: flags.workers,
      steps: { epochs: flags.epochs },
      batchSize: 64,
      microBatchSize: 16,
      timeoutMs: flags.epochs * 300_000,
      env: { ...env, BENCH_GC_DIR: gcDir, NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ''} --import ${COUNTER}`.trim() },
      onRunFolder: (out) => (epochs = readRun(out, gcDir)),
    });
    return outcome.ok ? epochs : outcome.reason;
  } finally {
    rmSync(gcDir, { recursive: true, force: true });
  }
}

console.log(
  `bench:gc: ${flags.rounds} round(s) × ${SETTINGS.length} settings × ${flags.epochs} epochs, ${flags.workers} workers, ${availableParallelism()} cores, load ${loadavg()[0].toFixed(2)}`,
);
const results: (EpochResult[] | string)[][] = SETTINGS.map(() => []);
for (let round = 0; round < flags.rounds; round++) {
  const order = round % 2 === 0 ? [0, 1] : [1, 0];
  for (const index of order) {
    const result = await run(SETTINGS[index]!.env);
    results[index]!.push(result);
    console.log(
      `round ${round + 1}, ${SETTINGS[index]!.label}: ${typeof result === 'string' ? `failed: ${result}` : result.map((e) => e.stepsPerSecond.toFixed(1)).join(' / ') + ' steps/s'}`,
    );
  }
}

interface Row {
  readonly setting: string;
  readonly epoch: number;
  readonly rates: readonly number[];
  readonly majors: readonly number[];
  readonly baseline: number;
}
/** Each setting's results epoch by epoch: one entry per run that finished. */
const byEpoch = results.map((runs) => {
  const finished = runs.filter((result): result is EpochResult[] => typeof result !== 'string');
  return Array.from({ length: flags.epochs }, (_, epoch) => finished.map((epochs) => epochs[epoch]).filter((e): e is EpochResult => e !== undefined));
});
const BASELINE = SETTINGS.findIndex((setting) => 'DPTRAIN_V8_FLAGS' in setting.env);
const rows: Row[] = SETTINGS.flatMap((setting, index) =>
  byEpoch[index]!.map((epochResults, epoch) => {
    const baseline = byEpoch[BASELINE]![epoch]!;
    return {
      setting: setting.label,
      epoch: epoch + 1,
      rates: epochResults.map((e) => e.stepsPerSecond),
      majors: epochResults.map((e) => e.majorsPerSecond),
      baseline: baseline.length > 0 ? median(baseline.map((e) => e.stepsPerSecond)) : Number.NaN,
    };
  }),
);

const columns: Column<Row>[] = [
  { header: 'V8 flags', cell: (r) => r.setting },
  { header: 'epoch', align: 'right', cell: (r) => String(r.epoch) },
  { header: 'steps/s, each run', align: 'right', cell: (r) => r.rates.map((v) => v.toFixed(1)).join(' / ') || 'failed' },
  { header: 'median', align: 'right', cell: (r) => (r.rates.length ? median(r.rates).toFixed(1) : '–') },
  { header: 'vs V8 defaults', align: 'right', cell: (r) => (r.rates.length && Number.isFinite(r.baseline) ? formatRatio(median(r.rates) / r.baseline) : '–') },
  { header: 'major GCs/s (all processes), each run', align: 'right', cell: (r) => r.majors.map((v) => v.toFixed(1)).join(' / ') || '–' },
];
console.log();
console.log(formatTable(columns, rows));
