import { join } from 'node:path';
import { Command, Option } from 'commander';
import { ConfigError, NORM_NAMES } from '@dptrain/config';
import { windowFor, windowMeans } from '../common/curves.js';
import { BaseJob, withBaseJobFlags } from '../common/job-options.js';
import { intList, nameList } from '../common/lists.js';
import { finish, invocation, machineNow, writeFiles } from '../common/report.js';
import type { RunFolder } from '../common/run-folder.js';
import { runDptrain } from '../common/run-dptrain.js';
import { sig } from '../common/table.js';
import { depthSpread, kernelNorms, type LayerNorm } from './layers.js';
import { depthDocuments, depthPlots, type DepthResults, type NormSummary } from './report.js';

const VARIED = ['norm', 'steps'];
const DEFAULTS = { model: 'resnet', blocks: '8', width: '8', optimizer: 'sgd', lr: '0.1', schedule: 'constant' };

/**
 * `dptrain experiment depth`: a deep ResNet with no normalization (He init), with Fixup and with
 * batch norm; per-layer gradient norms over training and loss curves; writes the report.
 *
 *   dptrain experiment depth --blocks 8 --snapshots 10,100,400 --out runs/experiments/depth
 */
export function registerDepth(group: Command): void {
  const command = group
    .command('depth')
    .description(
      'a deep ResNet without batch norm: He init vs Fixup vs batch norm; per-layer gradient norms over training; writes report.md, results.csv/json and SVG plots',
    )
    .addOption(new Option('--norms <list>', `normalizations to compare (${NORM_NAMES.join(', ')})`).default('none,fixup,batchnorm'))
    .addOption(new Option('--snapshots <list>', 'steps at which to take per-layer gradient norms; the largest is the run length').default('10,50,200'))
    .addOption(new Option('--out <dir>', 'experiment folder: report, results, plots, and runs/<norm>-<steps>/').default('runs/experiments/depth'));
  withBaseJobFlags(command, VARIED, DEFAULTS).action(async (options: Record<string, string | undefined>) => {
    const norms = nameList('--norms', options.norms!, NORM_NAMES);
    const snapshots = [...new Set(intList('--snapshots', options.snapshots!))].sort((a, b) => a - b);
    const longest = snapshots[snapshots.length - 1]!;
    const out = options.out!;
    const job = new BaseJob(options, DEFAULTS, options.config);
    const base = await job.resolve({ steps: longest });
    if (base.model !== 'resnet')
      throw new ConfigError('E_CONFIG_VALUE', `--model ${base.model}: the depth study compares the resnet's normalizations; give --model resnet (the default)`);
    // The shorter runs stand in for snapshots of the longest only if their rates agree step by step.
    if (base.schedule === 'cosine')
      throw new ConfigError(
        'E_CONFIG_VALUE',
        '--schedule cosine depends on the run length, so the snapshot runs would not share one trajectory; give --schedule constant (the default) or step',
      );
    const machine = machineNow();
    const summaries: NormSummary[] = [];
    const layers: DepthResults['layers'][number][] = [];
    const curves: DepthResults['curves'][number][] = [];
    for (const norm of norms) {
      const folders = new Map<number, RunFolder>();
      try {
        for (const steps of [...snapshots].reverse()) {
          process.stderr.write(`depth: ${norm}, ${steps} steps\n`);
          folders.set(steps, await runDptrain({ command: 'train', args: job.args({ norm, steps }), out: join(out, 'runs', `${norm}-${steps}`) }));
        }
      } catch (error) {
        summaries.push({
          norm,
          firstLoss: null,
          finalTrainLoss: null,
          testAccuracy: null,
          spreadAtStart: null,
          spreadAtEnd: null,
          maxGradNorm: null,
          divergedAt: null,
          sameTrajectory: null,
          error: (error as Error).message,
        });
        continue;
      }
      const full = folders.get(longest)!;
      const snapshotsOf = new Map<number, LayerNorm[]>();
      for (const folder of folders.values()) for (const record of folder.metrics.layers) snapshotsOf.set(record.step, kernelNorms(record));
      for (const [step, kernels] of [...snapshotsOf].sort((a, b) => a[0] - b[0]))
        layers.push({ norm, step, norms: kernels.map((k) => ({ ...k, gradNorm: sig(k.gradNorm) })) });
      const steps = full.metrics.steps;
      const window = windowFor(steps.length);
      const means = new Map(windowMeans(steps, window).map((p) => [p.step, p.value]));
      // Every one of the first `window` steps (a divergence happens there), then one per window.
      for (const s of steps) {
        if (s.step > window && s.step % window !== 0 && s.step !== steps.length) continue;
        const loss = means.get(s.step) ?? (s.step <= window ? s.loss : undefined);
        curves.push({
          norm,
          step: s.step,
          loss: loss !== undefined && Number.isFinite(loss) ? sig(loss) : null,
          gradNorm: Number.isFinite(s.gradNorm) ? sig(s.gradNorm) : null,
        });
      }
      const lossAt = new Map(steps.map((s) => [s.step, s.loss]));
      const sameTrajectory = [...folders.values()].every((f) => f.metrics.steps.every((s) => Object.is(s.loss, lossAt.get(s.step))));
      const finite = steps.map((s) => s.gradNorm).filter((g) => Number.isFinite(g));
      const lastMean = windowMeans(steps, window).at(-1);
      summaries.push({
        norm,
        firstLoss: steps[0] && Number.isFinite(steps[0].loss) ? sig(steps[0].loss) : null,
        finalTrainLoss: lastMean && lastMean.step === steps.length ? sig(lastMean.value) : null,
        testAccuracy: Number.isFinite(full.summary.testAccuracy) ? sig(full.summary.testAccuracy) : null,
        spreadAtStart: nullSig(depthSpread(snapshotsOf.get(1) ?? [])),
        spreadAtEnd: nullSig(depthSpread(snapshotsOf.get(longest) ?? [])),
        maxGradNorm: finite.length > 0 ? sig(Math.max(...finite)) : null,
        divergedAt: steps.find((s) => !Number.isFinite(s.loss))?.step ?? null,
        sameTrajectory,
        error: null,
      });
    }
    const config: Record<string, unknown> = { ...base };
    for (const key of [...VARIED, 'out']) delete config[key];
    const results: DepthResults = { experiment: 'depth', command: invocation(), machine: finish(machine), config, snapshots, summaries, layers, curves };
    const plots = await depthPlots(results);
    await writeFiles(out, { ...plots, ...depthDocuments(results, Object.keys(plots)) });
    process.stderr.write(`depth: report in ${join(out, 'report.md')}\n`);
  });
}

function nullSig(value: number | null): number | null {
  return value === null ? null : sig(value);
}
