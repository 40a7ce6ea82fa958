/**
 * The dptrain command: one program, several roles.
 *
 *   npx dptrain train --model mlp --optimizer adam --epochs 5 --out runs/mlp   # single process
 *   npx dptrain local --model mlp --workers 2 --out runs/mlp2                  # whole cluster, child processes
 *   DPTRAIN_TOKEN=… dptrain coordinator --port 7000 --workers 2 --out runs/x    # cluster by hand:
 *   DPTRAIN_TOKEN=… dptrain ps --coordinator ws://host:7000/ --shard 0 --port 7001
 *   DPTRAIN_TOKEN=… dptrain worker --coordinator ws://host:7000/
 *   npx dptrain --help                                                         # every command
 *   DPTRAIN_PORT=7000 dptrain --dry-run coordinator   # print the resolved settings as JSON, run nothing
 *
 * Every command takes the same flags and config-file keys (see @dptrain/config), and reads each
 * from the environment too (`--batch-size` from DPTRAIN_BATCH_SIZE, `--config` from DPTRAIN_CONFIG,
 * `--port` from DPTRAIN_PORT): flags > env > config file > defaults, as in a container.
 */
// First, so that the flags hold before any other module allocates.
import './v8-flags.js';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Command, Option } from 'commander';
import { ConfigError } from '@dptrain/config';
import { APP_ROOT } from './app-root.js';
import { registerModelCommands } from './cli/model-commands.js';
import { registerRoles } from './cli/roles.js';
import { registerTraceCommand } from './cli/trace-command.js';
import { dryRun, integerOf } from './cli/role-options.js';

const { version } = JSON.parse(readFileSync(join(APP_ROOT, 'package.json'), 'utf8')) as { version: string };

const program = new Command('dptrain')
  .description('Distributed data-parallel mini-batch training on TensorFlow.js')
  .version(version, '-V, --version', 'print the version and exit')
  .addOption(new Option('--dry-run', 'resolve flags, env and config file, print the settings as JSON and exit without running'))
  .addOption(
    new Option('--log-format <format>', 'logs on stderr as readable lines or JSON lines (default: pretty on a terminal, else json)')
      .choices(['pretty', 'json'])
      .env('DPTRAIN_LOG_FORMAT'),
  )
  // Through the environment, where every logger of the process (created lazily) reads it.
  .hook('preAction', (command) => {
    const format = command.opts().logFormat as string | undefined;
    if (format) process.env.DPTRAIN_LOG_FORMAT = format;
  })
  .showHelpAfterError('(run with --help for the flags)');

registerRoles(program);
registerModelCommands(program);
registerTraceCommand(program);

program
  .command('chaos')
  .description('run fault scenarios against a small local cluster and print what held (dptrain chaos --scenario all)')
  .addOption(new Option('--scenario <name>', "a scenario's name or number, or all").default('all'))
  .addOption(new Option('--out <dir>', 'reference run, one run folder per scenario, chaos.json').default('runs/chaos'))
  .addOption(new Option('--seed <n>', 'seed of the fault proxies (printed)').default('1'))
  .addOption(new Option('--backend <name>', 'cpu | wasm').default('cpu'))
  .addOption(new Option('--colocate', 'run the scenarios that apply to it in the co-located layout (local --colocate: each worker serves a shard)'))
  .action(async (options: Record<string, string>, command: Command) => {
    const seed = integerOf(command, 'seed', 0xffff_ffff, 'a 32-bit unsigned seed; give an integer in 0..4294967295');
    if (options.backend !== 'cpu' && options.backend !== 'wasm')
      throw new ConfigError('E_CONFIG_VALUE', `--backend ${options.backend} is not a chaos backend; give cpu or wasm`);
    const [{ runChaos }, { createLogger }] = await Promise.all([import('./chaos/run-chaos.js'), import('./logger.js')]);
    const layout = options.colocate ? 'colocated' : 'separate';
    await runChaos({ scenario: options.scenario, out: options.out, seed, backend: options.backend, layout }, createLogger('chaos'));
  });

program
  .command('plot')
  .description('plots of run folders side by side: training loss, accuracy, learning rate, gradient norm, samples/s (SVG, PNG)')
  .argument('<runs...>', 'run folders (the --out of train or local, e.g. runs/latest); one colour each')
  .addOption(new Option('--out <dir>', 'where to write the plots (default: plots/ in the first run)'))
  .addOption(new Option('--format <list>', 'svg, png or both (svg,png); PNGs are twice the size of the SVG').default('svg'))
  .action(async (runs: string[], options: { out?: string; format: string }, command: Command) => {
    if (dryRun(command, { options: { runs, ...options } })) return;
    const { runPlot } = await import('./commands/plot.js');
    await runPlot(runs, options);
  });

// The experiments (vega-lite, the simulator) load only for `dptrain experiment …`.
const experiment = program
  .command('experiment')
  .description("scaling runs, the scaling simulator and the lecture's optimizer, batch-size and depth studies; each writes a report");
if (process.argv.slice(2).includes('experiment')) {
  const { registerExperiments } = await import('./experiment/register.js');
  registerExperiments(experiment);
}

try {
  await program.parseAsync(process.argv);
} catch (error) {
  const message = error instanceof Error ? error.message : String(error);
  const code = (error as { code?: string }).code;
  process.stderr.write(`dptrain: ${code ? `[${code}] ` : ''}${message}\n`);
  if (!(error instanceof ConfigError) && error instanceof Error && process.env.DPTRAIN_DEBUG) process.stderr.write(`${error.stack}\n`);
  // Now, not when the event loop empties: an open connection (a shard registered with its
  // coordinator before its checkpoint directory failed) would keep a failed process alive.
  process.exit((error as { exitCode?: number }).exitCode ?? 1);
}
