import { join } from 'node:path';
import { Command, Option } from 'commander';
import { epochCurves, windowFor, windowMeans } from '../common/curves.js';
import { BaseJob, withBaseJobFlags } from '../common/job-options.js';
import { nameList, numberList } from '../common/lists.js';
import { finish, invocation, machineNow, writeFiles } from '../common/report.js';
import { runDptrain } from '../common/run-dptrain.js';
import { sig } from '../common/table.js';
import { optimizerDocuments, optimizerPlots, type OptimizerResults, type RunCurves } from './report.js';
import { bestPerOptimizer, summarizeRun, type RunSummary } from './summarize.js';
import { expandSweep, STUDIED } from './sweep.js';

const VARIED = ['optimizer', 'lr'];
const DEFAULTS = { epochs: '3', holdout: '0.1' };

/**
 * `dptrain experiment optimizers`: every optimizer of the lecture over a small learning-rate sweep
 * on the same model, data and seed, with holdout validation; writes the report.
 *
 *   dptrain experiment optimizers --epochs 3 --lr-factors 0.3,1,3 --out runs/experiments/optimizers
 */
export function registerOptimizers(group: Command): void {
  const command = group
    .command('optimizers')
    .description(
      "the lecture's optimizers, each over a learning-rate sweep, same model/data/seed, holdout validation; writes report.md, results.csv/json and SVG curves",
    )
    .addOption(new Option('--optimizers <list>', `optimizers to compare (${STUDIED.join(', ')})`).default(STUDIED.join(',')))
    .addOption(new Option('--lr-factors <list>', "multiples of each optimizer's usual learning rate").default('0.3,1,3'))
    .addOption(new Option('--target-loss <loss>', 'training loss whose time to reach is tabled').default('0.5'))
    .addOption(new Option('--runner <command>', 'train (one process) or local (the cluster)').choices(['train', 'local']).default('local'))
    .addOption(new Option('--out <dir>', 'experiment folder: report, results, plots, and runs/<run>/').default('runs/experiments/optimizers'));
  withBaseJobFlags(command, VARIED, DEFAULTS).action(async (options: Record<string, string | undefined>) => {
    const lrFactors = numberList('--lr-factors', options.lrFactors!);
    const sweep = expandSweep(nameList('--optimizers', options.optimizers!, STUDIED), lrFactors);
    const targetLoss = numberList('--target-loss', options.targetLoss!)[0]!;
    const runner = options.runner as 'train' | 'local';
    const out = options.out!;
    const job = new BaseJob(options, DEFAULTS, options.config);
    const configs = await Promise.all(sweep.map((r) => job.resolve({ optimizer: r.optimizer, lr: r.lr })));
    const machine = machineNow();
    const runs: RunSummary[] = [];
    const curves: RunCurves[] = [];
    for (const [i, run] of sweep.entries()) {
      process.stderr.write(`optimizers: run ${i + 1}/${sweep.length} ${run.id}\n`);
      try {
        const folder = await runDptrain({ command: runner, args: job.args({ optimizer: run.optimizer, lr: run.lr }), out: join(out, 'runs', run.id) });
        runs.push(summarizeRun(run, folder, targetLoss));
        const { steps, evals } = folder.metrics;
        curves.push({
          id: run.id,
          optimizer: run.optimizer,
          trainLoss: windowMeans(steps, windowFor(steps.length)).map((p) => ({ step: p.step, loss: sig(p.value) })),
          epochs: epochCurves(steps, evals).map((p) => ({ ...p, loss: sig(p.loss), accuracy: p.accuracy === null ? null : sig(p.accuracy) })),
        });
      } catch (error) {
        runs.push({
          id: run.id,
          optimizer: run.optimizer,
          lr: run.lr,
          trainLoss: null,
          bestValidationAccuracy: null,
          bestEpoch: null,
          testAccuracy: null,
          testLoss: null,
          generalizationGap: null,
          stepsToTarget: null,
          secondsToTarget: null,
          wallSeconds: 0,
          error: (error as Error).message,
        });
      }
    }
    const config: Record<string, unknown> = { ...configs[0]! };
    for (const key of [...VARIED, 'out']) delete config[key];
    const results: OptimizerResults = {
      experiment: 'optimizers',
      command: invocation(),
      runner,
      machine: finish(machine),
      config,
      targetLoss,
      lrFactors,
      runs,
      best: bestPerOptimizer(runs),
      curves,
    };
    const plots = await optimizerPlots(results);
    await writeFiles(out, { ...plots, ...optimizerDocuments(results, Object.keys(plots)) });
    process.stderr.write(`optimizers: report in ${join(out, 'report.md')}\n`);
  });
}
