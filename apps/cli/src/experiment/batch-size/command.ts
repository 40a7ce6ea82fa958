import { join } from 'node:path';
import { Command, Option } from 'commander';
import { ConfigError } from '@dptrain/config';
import { epochCurves, secondsAt, windowFor, windowMeans } from '../common/curves.js';
import { BaseJob, withBaseJobFlags } from '../common/job-options.js';
import { intList, numberList } from '../common/lists.js';
import { finish, invocation, machineNow, writeFiles } from '../common/report.js';
import { runDptrain } from '../common/run-dptrain.js';
import { sig } from '../common/table.js';
import { planBatchRuns, trainSamplesOf } from './plan.js';
import { batchDocuments, batchPlots, type BatchCurve, type BatchResults } from './report.js';
import { summarizeBatchRun, type BatchSummary } from './summarize.js';

const VARIED = ['batchSize', 'microBatchSize', 'lr', 'warmupSteps'];
const DEFAULTS = { epochs: '3', holdout: '0.1', optimizer: 'momentum' };

/**
 * `dptrain experiment batch-size`: the same job from small mini-batches towards the full batch,
 * with the linear scaling rule and warm-up for large batches; writes the report.
 *
 *   dptrain experiment batch-size --batch-sizes 16,64,256,1024 --lr 0.01 --base-batch 64 --out runs/experiments/batch-size
 */
export function registerBatchSize(group: Command): void {
  const command = group
    .command('batch-size')
    .description(
      'the same job over batch sizes with the linear scaling rule and warm-up; loss curves and time to accuracy; writes report.md, results.csv/json and SVG plots',
    )
    .addOption(new Option('--batch-sizes <list>', 'global batch sizes (up to the training-set size: the full batch)').default('16,64,256,1024'))
    .addOption(new Option('--base-batch <n>', 'the batch --lr is meant for').default('64'))
    .addOption(new Option('--lr <lr>', 'learning rate at --base-batch; other batches get lr × batch / base-batch').default('0.01'))
    .addOption(new Option('--warmup-fraction <f>', 'share of the steps spent warming up, for batches above --base-batch').default('0.1'))
    .addOption(new Option('--target-accuracy <a>', 'accuracy whose time to reach is tabled').default('0.85'))
    .addOption(new Option('--out <dir>', 'experiment folder: report, results, plots, and runs/<batch>/').default('runs/experiments/batch-size'));
  withBaseJobFlags(command, VARIED, DEFAULTS).action(async (options: Record<string, string | undefined>) => {
    const warmupFraction = Number(options.warmupFraction);
    if (!(warmupFraction >= 0 && warmupFraction < 1))
      throw new ConfigError('E_CONFIG_VALUE', `--warmup-fraction ${options.warmupFraction} is not in [0, 1); give e.g. 0.1`);
    const targetAccuracy = Number(options.targetAccuracy);
    if (!(targetAccuracy > 0 && targetAccuracy <= 1))
      throw new ConfigError('E_CONFIG_VALUE', `--target-accuracy ${options.targetAccuracy} is not in (0, 1]; give e.g. 0.85`);
    const baseBatch = intList('--base-batch', options.baseBatch!)[0]!;
    const baseLr = numberList('--lr', options.lr!)[0]!;
    const out = options.out!;
    const job = new BaseJob(options, DEFAULTS, options.config);
    const base = await job.resolve({ lr: baseLr });
    const trainSamples = trainSamplesOf(base.dataset, base.holdout);
    const batchSizes = intList('--batch-sizes', options.batchSizes!);
    const tooBig = batchSizes.find((b) => b > trainSamples);
    if (tooBig !== undefined)
      throw new ConfigError(
        'E_CONFIG_VALUE',
        `--batch-sizes: ${tooBig} is larger than the ${trainSamples} training samples; the full batch is ${trainSamples}`,
      );
    const plan = planBatchRuns({ batchSizes, baseBatch, baseLr, warmupFraction, epochs: base.epochs, trainSamples });
    const overrides = plan.map((r) => ({ batchSize: r.batchSize, microBatchSize: r.microBatchSize, lr: r.lr, warmupSteps: r.warmupSteps }));
    await Promise.all(overrides.map((o) => job.resolve(o)));
    const machine = machineNow();
    const runs: BatchSummary[] = [];
    const curves: BatchCurve[] = [];
    for (const [i, run] of plan.entries()) {
      process.stderr.write(`batch-size: run ${i + 1}/${plan.length} batch ${run.batchSize} lr ${run.lr} warm-up ${run.warmupSteps}\n`);
      try {
        const folder = await runDptrain({ command: 'train', args: job.args(overrides[i]), out: join(out, 'runs', run.id) });
        runs.push(summarizeBatchRun(run, folder, targetAccuracy));
        const { steps, evals } = folder.metrics;
        const { wallSeconds, steps: total } = folder.summary;
        curves.push({
          id: run.id,
          batchSize: run.batchSize,
          points: windowMeans(steps, windowFor(steps.length)).map((p) => ({
            step: p.step,
            samples: p.step * run.batchSize,
            seconds: sig(secondsAt(p.step, total, wallSeconds), 3),
            loss: sig(p.value),
          })),
          accuracy: epochCurves(steps, evals)
            .filter((p) => p.accuracy !== null)
            .map((p) => ({ epoch: p.epoch, split: p.split, accuracy: sig(p.accuracy!) })),
        });
      } catch (error) {
        runs.push({
          id: run.id,
          batchSize: run.batchSize,
          lr: run.lr,
          warmupSteps: run.warmupSteps,
          steps: run.steps,
          samplesPerSecond: null,
          wallSeconds: null,
          trainLoss: null,
          validationAccuracy: null,
          testAccuracy: null,
          epochsToTarget: null,
          secondsToTarget: null,
          error: (error as Error).message,
        });
      }
    }
    const config: Record<string, unknown> = { ...base };
    for (const key of [...VARIED, 'out']) delete config[key];
    const results: BatchResults = {
      experiment: 'batch-size',
      command: invocation(),
      machine: finish(machine),
      config,
      baseBatch,
      baseLr,
      warmupFraction,
      targetAccuracy,
      runs,
      curves,
    };
    const plots = await batchPlots(results);
    await writeFiles(out, { ...plots, ...batchDocuments(results, Object.keys(plots)) });
    process.stderr.write(`batch-size: report in ${join(out, 'report.md')}\n`);
  });
}
