import { join } from 'node:path';
import { type Command, Option } from 'commander';
import { BACKEND_NAMES, ConfigError } from '@dptrain/config';
import { dryRun, integerOf } from './role-options.js';

// Using a finished run's model: eval, predict, export. As for the roles, each command's module
// (and TensorFlow.js, the data set, tfjs-layers) is imported when the command runs.

const EXPORT_FORMATS = ['tfjs'] as const;

async function logger(role: string) {
  const { createLogger } = await import('../logger.js');
  return createLogger(role);
}

const backendOption = (): Option =>
  new Option('--backend <name>', "TensorFlow.js backend (default: the run's own, from summary.json, which gives its results to the bit)").choices(
    BACKEND_NAMES,
  );

const jsonOption = (what: string): Option => new Option('--json', `print one JSON object (${what}) instead of text`);

export function registerModelCommands(program: Command): void {
  program
    .command('eval')
    .description("a finished run's test loss, accuracy (summary.json's, to the bit) and confusion matrix")
    .argument('<run>', 'run folder (the --out of train or local, e.g. runs/latest)')
    .addOption(new Option('--data <dir>', "directory with the data set's IDX files, instead of the run's own setting and the search order"))
    .addOption(backendOption())
    .addOption(jsonOption("loss, accuracy, confusion matrix, each sample's predicted class"))
    .action(async (run: string, options: { data?: string; backend?: string; json?: boolean }, command: Command) => {
      const settings = { run, ...options, json: options.json === true };
      if (dryRun(command, { options: settings })) return;
      const { runEval } = await import('../commands/eval.js');
      await runEval(run, settings, await logger('eval'));
    });

  program
    .command('predict')
    .description("classify PNG images or IDX image files with a finished run's model: class and probabilities")
    .argument('<run>', 'run folder (the --out of train or local, e.g. runs/latest)')
    .argument('<images...>', 'PNG files of the input size, or IDX image files (N × 28 × 28 bytes, gzipped or not, like t10k-images-idx3-ubyte.gz)')
    .addOption(new Option('--limit <n>', 'classify only the first n samples of each IDX file'))
    .addOption(backendOption())
    .addOption(jsonOption('every prediction'))
    .action(async (run: string, images: string[], options: { limit?: string; backend?: string; json?: boolean }, command: Command) => {
      const limit =
        options.limit === undefined ? undefined : integerOf(command, 'limit', Number.MAX_SAFE_INTEGER, 'a number of samples; give a positive integer');
      if (limit === 0)
        throw new ConfigError('E_CONFIG_VALUE', '--limit 0 classifies nothing; give a positive integer, or drop --limit to classify every sample');
      const settings = { ...(limit === undefined ? {} : { limit }), ...(options.backend ? { backend: options.backend } : {}), json: options.json === true };
      if (dryRun(command, { options: { run, images, ...settings } })) return;
      const { runPredict } = await import('../commands/predict.js');
      await runPredict(run, images, settings, await logger('predict'));
    });

  program
    .command('export')
    .description("write a finished run's model as a TensorFlow.js Layers (Keras) model: model.json, weights.bin")
    .argument('<run>', 'run folder (the --out of train or local, e.g. runs/latest)')
    .addOption(new Option('--format <format>', `${EXPORT_FORMATS.join(' | ')}`).default('tfjs'))
    .addOption(new Option('--out <dir>', 'where to write the files (default: <run>/tfjs)'))
    .action(async (run: string, options: { format: string; out?: string }, command: Command) => {
      if (!(EXPORT_FORMATS as readonly string[]).includes(options.format)) {
        throw new ConfigError(
          'E_CONFIG_VALUE',
          `--format ${options.format} is not an export format; give --format tfjs (a TensorFlow.js Layers model: model.json and weights.bin)`,
        );
      }
      const out = options.out ?? join(run, options.format);
      if (dryRun(command, { options: { run, format: options.format, out } })) return;
      const { runExportTfjs } = await import('../commands/export-tfjs.js');
      await runExportTfjs(run, out);
    });
}
