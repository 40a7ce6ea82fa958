// How long the dptrain command takes before it acts, and how long a one-step job takes from
// start to exit: `dptrain train --steps 1` beside `dptrain local --steps 1` (coordinator, shard
// and two workers as processes; with --colocate, no shard process). Every row runs both from the command's bundle (what `dptrain` runs)
// and from the TypeScript sources through tsx (DPTRAIN_BUNDLE=0), next to Node's own start.
//
//   npx tsx bench/cli.bench.ts                # or: npm run bench:cli
//   npm run bench:cli -- --reps 15 --job-reps 7
//
// Each row: median, min and max wall time over the timed runs, after one warm-up run (which
// builds the bundle and fills tsx's transform cache, as any earlier use of the command would).
// The one-step jobs read Fashion-MNIST as `dptrain train` does (the Debian package's files here).
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseFlags } from './lib/args.js';
import { median } from './lib/stats.js';
import { formatTable } from './lib/table.js';

const flags = parseFlags(process.argv.slice(2), {
  reps: { kind: 'int', help: 'timed runs per command row', default: 9 },
  'job-reps': { kind: 'int', help: 'timed runs per one-step job row', default: 5 },
});

const BIN = fileURLToPath(new URL('../apps/cli/bin/dptrain.js', import.meta.url));
const base = { ...process.env, DPTRAIN_TOKEN: 'cli-bench-token-00001' };
const SOURCES = { DPTRAIN_BUNDLE: '0' };
const NPX = process.platform === 'win32' ? 'npx.cmd' : 'npx';
const out = mkdtempSync(join(tmpdir(), 'dptrain-cli-bench-'));

interface Row {
  readonly name: string;
  readonly command?: string;
  readonly args: string[];
  readonly env?: Record<string, string>;
}

const both = (name: string, args: string[]): Row[] => [
  { name: `${name}`, args: [BIN, ...args] },
  { name: `${name} (sources, tsx)`, args: [BIN, ...args], env: SOURCES },
];

const commands: Row[] = [
  { name: 'node -e 0 (baseline)', args: ['-e', '0'] },
  ...both('dptrain --version', ['--version']),
  ...both('dptrain --help', ['--help']),
  ...both('dptrain train --help', ['train', '--help']),
  ...both('dptrain --dry-run worker', ['--dry-run', 'worker', '--coordinator', 'ws://127.0.0.1:7000/']),
  ...both('dptrain --dry-run train', ['--dry-run', 'train']),
  // What the README's `npx dptrain …` adds: npm's own start and its lookup of the bin.
  { name: 'npx --version (baseline)', command: NPX, args: ['--version'] },
  { name: 'npx dptrain --help', command: NPX, args: ['dptrain', '--help'] },
];

const oneStep = (role: 'train' | 'local', ...more: string[]): string[] => [BIN, role, '--steps', '1', ...more, '--out', join(out, role), '--force'];
const jobs: Row[] = [
  { name: 'dptrain train --steps 1', args: oneStep('train') },
  { name: 'dptrain local --steps 1', args: oneStep('local') },
  { name: 'dptrain local --colocate --steps 1', args: oneStep('local', '--colocate') },
  { name: 'dptrain train --steps 1 (sources, tsx)', args: oneStep('train'), env: SOURCES },
  { name: 'dptrain local --steps 1 (sources, tsx)', args: oneStep('local'), env: SOURCES },
];

function time(row: Row): number {
  const started = performance.now();
  execFileSync(row.command ?? process.execPath, row.args, {
    env: { ...base, ...row.env },
    stdio: 'ignore',
    cwd: fileURLToPath(new URL('..', import.meta.url)),
  });
  return performance.now() - started;
}

interface Timed extends Row {
  readonly median: number;
  readonly min: number;
  readonly max: number;
}

function measure(rows: readonly Row[], reps: number): Timed[] {
  return rows.map((row) => {
    time(row);
    const ms = Array.from({ length: reps }, () => time(row));
    return { ...row, median: median(ms), min: Math.min(...ms), max: Math.max(...ms) };
  });
}

const seconds = (ms: number): string => `${(ms / 1000).toFixed(3)} s`;
const table = (rows: readonly Timed[], extra: { header: string; cell: (r: Timed) => string }[] = []): string =>
  formatTable(
    [
      { header: 'command', cell: (r) => r.name },
      { header: 'median', cell: (r) => seconds(r.median), align: 'right' },
      { header: 'min', cell: (r) => seconds(r.min), align: 'right' },
      { header: 'max', cell: (r) => seconds(r.max), align: 'right' },
      ...extra.map((e) => ({ ...e, align: 'right' as const })),
    ],
    rows,
  );

try {
  process.stdout.write(`${table(measure(commands, flags.reps))}\n\n`);
  const timed = measure(jobs, flags['job-reps']);
  const trainOf = (row: Timed): Timed => timed.find((t) => t.name === row.name.replace('local', 'train').replace(' --colocate', ''))!;
  process.stdout.write(`${table(timed, [{ header: '÷ train (same build)', cell: (r) => `${(r.median / trainOf(r).median).toFixed(2)}×` }])}\n`);
} finally {
  rmSync(out, { recursive: true, force: true });
}
