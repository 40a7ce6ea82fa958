// How long the dptrain command takes before it acts: `--version`, `--help`, a role's `--help` and
// a dry run, each as a whole process, next to `node -e 0` (Node's own start) and a Node process
// that registers tsx the same way (what running TypeScript sources costs), all in this run.
//
//   npx tsx bench/cli.bench.ts                # or: npm run bench:cli
//   npm run bench:cli -- --reps 15
//
// Each row: median, min and max wall time over `reps` runs, after one warm-up run (which fills
// tsx's transform cache, as any earlier use of the command on this machine would have).
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { parseFlags } from './lib/args.js';
import { median } from './lib/stats.js';
import { formatTable } from './lib/table.js';

const flags = parseFlags(process.argv.slice(2), {
  reps: { kind: 'int', help: 'timed runs per row', default: 9 },
});

const BIN = fileURLToPath(new URL('../apps/cli/bin/dptrain.js', import.meta.url));
const env = { ...process.env, DPTRAIN_TOKEN: 'cli-bench-token-00001' };

const NPX = process.platform === 'win32' ? 'npx.cmd' : 'npx';

const rows: { name: string; command?: string; args: string[] }[] = [
  { name: 'node -e 0 (baseline)', args: ['-e', '0'] },
  { name: 'node + tsx registered (baseline)', args: ['--input-type=module', '-e', "import { register } from 'tsx/esm/api'; register();"] },
  { name: 'dptrain --version', args: [BIN, '--version'] },
  { name: 'dptrain --help', args: [BIN, '--help'] },
  { name: 'dptrain train --help', args: [BIN, 'train', '--help'] },
  { name: 'dptrain --dry-run worker', args: [BIN, '--dry-run', 'worker', '--coordinator', 'ws://127.0.0.1:7000/'] },
  { name: 'dptrain --dry-run train', args: [BIN, '--dry-run', 'train'] },
  // What the README's `npx dptrain …` adds: npm's own start and its lookup of the bin.
  { name: 'npx --version (baseline)', command: NPX, args: ['--version'] },
  { name: 'npx dptrain --help', command: NPX, args: ['dptrain', '--help'] },
];

function time(command: string, args: string[]): number {
  const started = performance.now();
  execFileSync(command, args, { env, stdio: 'ignore', cwd: fileURLToPath(new URL('..', import.meta.url)) });
  return performance.now() - started;
}

const results = rows.map((row) => {
  const command = row.command ?? process.execPath;
  time(command, row.args);
  const ms = Array.from({ length: flags.reps }, () => time(command, row.args));
  return { ...row, median: median(ms), min: Math.min(...ms), max: Math.max(...ms) };
});
const seconds = (ms: number): string => `${(ms / 1000).toFixed(3)} s`;
process.stdout.write(
  `${formatTable(
    [
      { header: 'command', cell: (r) => r.name },
      { header: 'median', cell: (r) => seconds(r.median), align: 'right' },
      { header: 'min', cell: (r) => seconds(r.min), align: 'right' },
      { header: 'max', cell: (r) => seconds(r.max), align: 'right' },
    ],
    results,
  )}\n`,
);
