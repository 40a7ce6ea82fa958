// How steady each core of this machine is: the same work timed second by second on one CPU, with
// the other cores idle and then with every core busy at once. A virtual machine whose host shares
// its cores' caches with other guests slows in stretches of seconds, and a validation run of a
// few seconds then measures a different machine each time (docs/experiments/simulate/report.md).
//
//   npm run bench:core-speed
//   npm run bench:core-speed -- --seconds 60
//
// Each core's work runs in a child pinned to it with taskset (bench/core-speed/measure-core.ts),
// which times in turn a gradient of one micro-batch through dptrain's MLP (wasm), a sum over
// 4 MiB of floats (caches and memory) and a chain of square roots (arithmetic alone: the baseline
// measured in the same run, which no sharing of caches slows). A row is one kind of work on one
// core: the median over the seconds of each second's median call, and how far the seconds spread.
// A second table averages the seconds over windows of 1 to 120 s, the length of a validation
// run and beyond: how much of the drift a longer run would average out (windowVariation).
import { spawnSync } from 'node:child_process';
import { availableParallelism, loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { readBenchFlags, type FlagSpec } from './lib/args.js';
import { runChild, tsxCommand, type ChildOutcome } from './lib/child.js';
import { formatTable, type Column } from './lib/table.js';
import { correlation, expectedSpread, KERNELS, steadiness, windowVariation, type CoreSeconds, type Kernel, type Steadiness } from './core-speed/seconds.js';

const FLAGS = {
  seconds: { kind: 'int', help: 'seconds each core is timed in each phase', default: 30 },
  help: { kind: 'boolean', help: 'print this help', default: false },
} satisfies Record<string, FlagSpec>;

const flags = readBenchFlags('core-speed', FLAGS, (values) => {
  if (values.seconds < 3) throw new RangeError(`--seconds ${values.seconds} is too short to see stretches of seconds; give 3 or more (default 30)`);
});

const taskset = spawnSync('taskset', ['--version'], { encoding: 'utf8' });
if (taskset.error || taskset.status !== 0) {
  console.error('bench:core-speed: taskset cannot run here; install util-linux (apt-get install util-linux) to pin each child to its core');
  process.exit(2);
}

const CHILD = fileURLToPath(new URL('./core-speed/measure-core.ts', import.meta.url));
const cores = availableParallelism();
/** Time for the children to start, load the backend and warm up before the shared first second. */
const START_MARGIN_MS = 15_000;

/** Times `on` at once, each pinned to its core, from a shared start. */
async function phase(on: readonly number[]): Promise<ChildOutcome<CoreSeconds>[]> {
  const start = Date.now() + START_MARGIN_MS;
  return Promise.all(
    on.map((core) => {
      const child = tsxCommand(CHILD, ['--seconds', String(flags.seconds), '--start', String(start)]);
      return runChild<CoreSeconds>('taskset', ['--cpu-list', String(core), child.command, ...child.args], {
        timeoutMs: START_MARGIN_MS + flags.seconds * 1000 + 60_000,
      });
    }),
  );
}

interface Row {
  readonly core: number;
  readonly busy: string;
  readonly kernel: Kernel;
  readonly result: Steadiness | string;
  readonly seconds?: readonly { ms: number }[];
}

const rows: Row[] = [];
const together: CoreSeconds[] = [];
const record = (core: number, busy: string, outcome: ChildOutcome<CoreSeconds>) => {
  for (const kernel of KERNELS)
    rows.push(
      outcome.ok
        ? { core, busy, kernel, result: steadiness(outcome.value[kernel]), seconds: outcome.value[kernel] }
        : { core, busy, kernel, result: outcome.reason },
    );
};

const loadBefore = loadavg();
for (let core = 0; core < cores; core++) {
  process.stderr.write(`bench:core-speed: core ${core} alone, ${flags.seconds} s\n`);
  record(core, 'this one', (await phase([core]))[0]!);
}
process.stderr.write(`bench:core-speed: all ${cores} cores at once, ${flags.seconds} s\n`);
const all = await phase(Array.from({ length: cores }, (_, core) => core));
all.forEach((outcome, core) => {
  record(core, 'all', outcome);
  if (outcome.ok) together.push(outcome.value);
});

// A failed child's reason stands in its seconds cell; its other cells stay empty.
const cell = (f: (s: Steadiness) => string) => (row: Row) => (typeof row.result === 'string' ? '' : f(row.result));
const columns: Column<Row>[] = [
  { header: 'core', cell: (r) => String(r.core), align: 'right' },
  { header: 'cores busy', cell: (r) => r.busy },
  { header: 'work', cell: (r) => r.kernel },
  { header: 'seconds', cell: (r) => (typeof r.result === 'string' ? `failed: ${r.result}` : String(r.result.seconds)), align: 'right' },
  { header: 'median ms', cell: cell((s) => s.medianMs.toFixed(3)), align: 'right' },
  { header: 'seconds p10–p90 ms', cell: cell((s) => `${s.p10Ms.toFixed(3)}–${s.p90Ms.toFixed(3)}`), align: 'right' },
  { header: 'p90 / p10', cell: cell((s) => `${s.swing.toFixed(2)}×`), align: 'right' },
  { header: 'seconds ≥ 25% over p10', cell: cell((s) => `${Math.round(100 * s.slowShare)}%`), align: 'right' },
];

console.log(`\n${formatTable(columns, rows)}\n`);

// How much longer runs average the drift out: a validation's runs last tens of seconds.
const WINDOWS = [1, 10, 30, 60, 120].filter((w) => w * 3 <= flags.seconds);
const measured = rows.filter((r) => r.seconds !== undefined);
const variation = (r: Row, w: number) => windowVariation(r.seconds!, w);
const windowColumns: Column<Row>[] = [
  { header: 'core', cell: (r) => String(r.core), align: 'right' },
  { header: 'cores busy', cell: (r) => r.busy },
  { header: 'work', cell: (r) => r.kernel },
  ...WINDOWS.map(
    (w): Column<Row> => ({
      header: `cv of ${w} s means`,
      cell: (r) => {
        const v = variation(r, w);
        return v === undefined ? '' : `${(100 * v.cv).toFixed(1)}% (${v.windows})`;
      },
      align: 'right',
    }),
  ),
  {
    header: `3 runs of ${WINDOWS.at(-1)} s spread, expected`,
    cell: (r) => {
      const v = variation(r, WINDOWS.at(-1)!);
      return v === undefined ? '' : `${(100 * expectedSpread(v.cv, 3)).toFixed(0)}%`;
    },
    align: 'right',
  },
];
console.log(
  `How much a core's speed averaged over a window moves from one window to the next (sd / mean of the windows' means; in brackets, how many windows): if the drift were second-to-second noise, it would fall with the square root of the window. The last column is the spread, (greatest − least) / mean, that 3 runs that long would show on average; the simulator's validation calls a configuration unmeasurable above 15%.\n\n${formatTable(windowColumns, measured)}\n`,
);
if (together.length >= 2) {
  for (const kernel of KERNELS.filter((k) => k !== 'chain')) {
    const r = correlation(together[0]![kernel], together[1]![kernel]);
    console.log(
      `${kernel}, all cores at once: correlation of core 0's and core 1's seconds r = ${r === undefined ? 'n/a (too few seconds or no movement)' : r.toFixed(2)} (near 1: the machine slows as a whole; near 0: each core on its own)`,
    );
  }
}
console.log(
  `load average before: ${loadBefore.map((v) => v.toFixed(2)).join(' ')}; after: ${loadavg()
    .map((v) => v.toFixed(2))
    .join(' ')}`,
);
