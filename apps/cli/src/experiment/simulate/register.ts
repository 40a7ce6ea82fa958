import { existsSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { Command, Option } from 'commander';
import { initBackend } from '@dptrain/backend';
import { ConfigError } from '@dptrain/config';
import { calibrate, medianCalibration, type Calibration } from '@dptrain/simulator';
import { trainingSplits } from '@dptrain/training';
import { affinityOf } from '../../cluster/cpu-affinity.js';
import { loadJobDataset } from '../../commands/train.js';
import { createLogger } from '../../logger.js';
import { BaseJob, withBaseJobFlags } from '../common/job-options.js';
import { intList, nameList, positiveInt } from '../common/lists.js';
import { finish, invocation, machineNow, writeFiles } from '../common/report.js';
import { readCalibration, readValidation, writeCalibration } from './calibration-file.js';
import { measureCoordinatorStep } from './coordinator-cost.js';
import { findings } from './findings.js';
import { project, type ProjectionGrid } from './project.js';
import { simulateDocuments, simulatePlots, type SimulateResults } from './report.js';
import { calibrationAmongRounds, fixedCalibration, type RoundCalibration } from './round-calibration.js';
import { repredict, validate } from './validate.js';

const VARIED = ['workers', 'psShards', 'mode', 'staleness', 'steps', 'backupAfter', 'backupMinMs'];
const DEFAULTS = { backend: 'wasm' };

/**
 * The steps of the validation's runs and simulations: a reused validation's own (files written
 * before they were kept: --validate-steps, as before), or --validate-steps.
 * @throws ConfigError when --validate-steps is given and a reused validation ran another length
 */
function stepsOfValidation(reused: { validationSteps: number | undefined } | undefined, asked: number, source: string | undefined): number {
  const ran = reused?.validationSteps;
  if (ran === undefined) return asked;
  if (source === 'cli' && asked !== ran)
    throw new ConfigError(
      'E_CONFIG_VALUE',
      `--validate-steps ${asked}, but the reused validation's real runs took ${ran} steps each; help: leave --validate-steps out, and they are predicted at the length they ran`,
    );
  return ran;
}

function positiveNumber(flag: string, text: string, allowZero = false): number {
  const value = Number(text);
  if (!Number.isFinite(value) || value < 0 || (!allowZero && value === 0)) {
    throw new ConfigError('E_CONFIG_VALUE', `${flag} ${text} is not a ${allowZero ? 'non-negative' : 'positive'} number; give e.g. ${flag} 1`);
  }
  return value;
}

function probability(flag: string, text: string): number {
  const value = positiveNumber(flag, text, true);
  if (value > 1) throw new ConfigError('E_CONFIG_VALUE', `${flag} ${text} is not a probability; give a number between 0 and 1, e.g. ${flag} 0.05`);
  return value;
}

function niceValue(text: string): number {
  const value = Number(text);
  if (!Number.isInteger(value) || value < -20 || value > 19)
    throw new ConfigError('E_CONFIG_VALUE', `--priority ${text} is not a nice value; give an integer from -20 (first) to 19 (last), e.g. --priority 0`);
  return value;
}

function staleList(text: string): number[] {
  return text.split(',').map((item) => {
    const value = Number(item.trim());
    if (!Number.isInteger(value) || value < 0)
      throw new ConfigError('E_CONFIG_VALUE', `--staleness ${text}: "${item}" is not a non-negative integer; give e.g. --staleness 2,16,256`);
    return value;
  });
}

/** Adds `dptrain experiment simulate` to `group`. */
export function registerSimulate(group: Command): void {
  const command = group
    .command('simulate')
    .description(
      'a discrete-event simulation of the real coordinator and shards in virtual time: validated against real `dptrain local` runs, then projected to 8–256 workers; writes report.md, results.csv/json and SVG plots',
    )
    .addOption(
      new Option('--calibrate', 'only measure this machine (compute per micro-batch, codec, shard fold and apply, loopback wire) and write --calibration'),
    )
    .addOption(
      new Option(
        '--calibrations <n>',
        "measure the machine this many times and keep each cost's median (one calibration stands for a minute of a virtual machine, whose costs move by a fifth from one minute to the next): in a row with --calibrate, --no-validate or --reuse-validation; before a validation, among its rounds of real runs, so that they meet the machine the runs meet",
      ).default('3'),
    )
    .addOption(new Option('--calibration <file>', 'calibration JSON to use (measured first when missing)').default(undefined, '<out>/calibration.json'))
    .addOption(new Option('--no-validate', 'skip the real runs and the predicted-vs-measured table'))
    .addOption(
      new Option(
        '--reuse-validation <results.json>',
        'take the real runs of the validation from an earlier results.json instead of running them again, and predict them again with this model',
      ),
    )
    .addOption(new Option('--validate-steps <n>', 'steps of each real validation run and its simulation').default('300'))
    .addOption(
      new Option(
        '--repeats <n>',
        'real runs per validation configuration: judged by their median; spread over 15% marks the configuration unmeasurable',
      ).default('5'),
    )
    .addOption(
      new Option(
        '--priority <nice>',
        'validation: nice value of the real runs (lower runs them ahead of other work on a shared machine; below 0 needs root)',
      ).default('-10'),
    )
    .addOption(
      new Option(
        '--no-pin-cpus',
        "validation: let each real run's processes take any core, and model one run queue, instead of pinning each to a CPU (dptrain local --pin-cpus) and modelling the same pinning",
      ),
    )
    .addOption(
      new Option(
        '--trace <dir>',
        "validation: record each configuration's simulated run, the one judged, as dptrain local --trace records a real one: <dir>/<configuration>/coordinator.trace.jsonl and worker-k.trace.jsonl, on the virtual clock, to lay beside a traced real run (the shards' spans are not modelled)",
      ),
    )
    .addOption(new Option('--background <n>', 'validation: other load on the machine, in busy processes (default: sampled during each real run)'))
    .addOption(new Option('--no-project', 'skip the projections'))
    .addOption(new Option('--workers <list>', 'projection: worker counts').default('8,16,32,64,128,256'))
    .addOption(new Option('--ps-shards <list>', 'projection: shard counts').default('1,2,4,8'))
    .addOption(
      new Option(
        '--layouts <list>',
        'projection: layouts, separate (shard processes: every question) and colocated (a shard in each worker, as dptrain local --colocate: the shards question)',
      ).default('separate,colocated'),
    )
    .addOption(
      new Option(
        '--colocated-max-workers <n>',
        'projection: the co-located layout up to this many workers (N workers have N shards: a run simulates N² connections)',
      ).default('64'),
    )
    .addOption(new Option('--staleness <list>', 'projection: async staleness bounds').default('2,16,256'))
    .addOption(new Option('--backup-after <x>', 'projection: backup leases after this many times the median lease time').default('3'))
    .addOption(new Option('--backup-min-ms <ms>', 'projection: backup leases only for leases running at least this long').default('0'))
    .addOption(new Option('--straggler-prob <p>', 'projection: probability a micro-batch straggles').default('0.05'))
    .addOption(new Option('--straggler-slowdown <x>', 'projection: how many times slower a straggling micro-batch computes').default('5'))
    .addOption(new Option('--bandwidth <MBps>', "projection: each process's link, megabytes per second").default('1250'))
    .addOption(new Option('--latency <ms>', 'projection: one-way latency, milliseconds').default('0.05'))
    .addOption(new Option('--projection-steps <n>', 'projection: steps per simulated run').default('30'))
    .addOption(new Option('--projection-limit <seconds>', 'projection: virtual seconds a run may take before it is reported unfinished').default('10'))
    .addOption(
      new Option('--micro-batches-per-worker <n>', 'projection: micro-batches per worker per step (the global batch grows with the workers)').default('1'),
    )
    .addOption(new Option('--out <dir>', 'experiment folder: report, results, plots, calibration, runs/<cell>/').default('runs/experiments/simulate'));
  withBaseJobFlags(command, VARIED, DEFAULTS).action(async (options: Record<string, string | boolean | undefined>) => {
    const out = String(options.out);
    const calibrationFile = typeof options.calibration === 'string' ? options.calibration : join(out, 'calibration.json');
    // The projection's own lists (--workers, --ps-shards, --staleness) share names with job keys: keep them out of the base job.
    const jobOptions = Object.fromEntries(Object.entries(options).filter(([key]) => !VARIED.includes(key)));
    const job = new BaseJob(jobOptions, DEFAULTS, options.config as string | undefined);
    const config = await job.resolve();
    const logger = createLogger('simulate');
    const dataset = await loadJobDataset(config, logger);
    const facts = { inputShape: dataset.inputShape, numClasses: dataset.numClasses, trainCount: (c: typeof config) => trainingSplits(c, dataset).train.count };

    // Read before the calibration and the real runs, so a bad projection flag is refused at once.
    const grid: ProjectionGrid | null =
      options.project === false
        ? null
        : {
            workers: intList('--workers', String(options.workers)),
            psShards: intList('--ps-shards', String(options.psShards)),
            staleness: staleList(String(options.staleness)),
            backupAfter: positiveNumber('--backup-after', String(options.backupAfter), true),
            backupMinMs: positiveNumber('--backup-min-ms', String(options.backupMinMs), true),
            stragglers: {
              probability: probability('--straggler-prob', String(options.stragglerProb)),
              slowdown: positiveNumber('--straggler-slowdown', String(options.stragglerSlowdown)),
            },
            wire: {
              bandwidthMBps: positiveNumber('--bandwidth', String(options.bandwidth)),
              latencyMs: positiveNumber('--latency', String(options.latency), true),
            },
            steps: positiveInt('--projection-steps', String(options.projectionSteps)),
            microBatchesPerWorker: positiveInt('--micro-batches-per-worker', String(options.microBatchesPerWorker)),
            limitSeconds: positiveNumber('--projection-limit', String(options.projectionLimit)),
            layouts: nameList('--layouts', String(options.layouts), ['separate', 'colocated'] as const),
            colocatedMaxWorkers: positiveInt('--colocated-max-workers', String(options.colocatedMaxWorkers)),
          };
    const reused = typeof options.reuseValidation === 'string' ? await readValidation(options.reuseValidation) : undefined;
    const calibrating = options.calibrate === true || !existsSync(calibrationFile);
    const times = positiveInt('--calibrations', String(options.calibrations));
    let source: RoundCalibration;
    if (calibrating) {
      const backend = await initBackend(config.backend);
      const take = async (k: number): Promise<Calibration> => {
        process.stderr.write(`simulate: measuring this machine (backend ${backend.name}), calibration ${k} of ${times}, into ${calibrationFile}\n`);
        const measured = await calibrate(
          { config, inputShape: facts.inputShape, numClasses: facts.numClasses, trainCount: facts.trainCount(config) },
          dataset,
          { backend: backend.name, pinning: affinityOf(process.pid) },
        );
        process.stderr.write(`simulate: measuring the coordinator's work per step in a short real run\n`);
        const coordinatorStep = await measureCoordinatorStep(
          new BaseJob(jobOptions, DEFAULTS, options.config as string | undefined),
          join(out, 'runs', 'calibration'),
          measured.coordinatorMsPerMessage,
        );
        return coordinatorStep ? { ...measured, coordinatorStep } : measured;
      };
      if (!options.calibrate && !reused && options.validate !== false) {
        // Taken among the real runs' rounds, so that they meet the machine the runs meet.
        source = calibrationAmongRounds(cpus().length, times, take);
      } else {
        const each: Calibration[] = [];
        for (let k = 1; k <= times; k++) each.push(await take(k));
        source = fixedCalibration(medianCalibration(each));
        await writeCalibration(calibrationFile, source.result());
        if (options.calibrate) return;
      }
    } else {
      source = fixedCalibration(await readCalibration(calibrationFile));
    }

    const trace = typeof options.trace === 'string' ? options.trace : undefined;
    const machine = machineNow();
    const validationSteps = stepsOfValidation(
      reused,
      positiveInt('--validate-steps', String(options.validateSteps)),
      command.getOptionValueSource('validateSteps'),
    );
    const validationJob = new BaseJob({ ...jobOptions, steps: String(validationSteps) }, DEFAULTS, options.config as string | undefined);
    const validation = reused
      ? await repredict(validationJob, facts, source.result(), reused.validation, trace)
      : options.validate === false
        ? null
        : await validate(validationJob, facts, source, {
            runs: join(out, 'runs'),
            repeats: positiveInt('--repeats', String(options.repeats)),
            background: options.background === undefined ? undefined : positiveNumber('--background', String(options.background), true),
            priority: niceValue(String(options.priority)),
            pinCpus: options.pinCpus !== false,
            ...(trace === undefined ? {} : { trace }),
          });
    const calibration = source.result();
    if (source.amongRounds) await writeCalibration(calibrationFile, calibration);
    const projections = grid ? await project(job, facts, calibration, grid) : [];
    const shared: Record<string, unknown> = { ...config };
    for (const key of [...VARIED, 'out', 'batchSize']) delete shared[key];
    const results: SimulateResults = {
      experiment: 'simulate',
      command: invocation(),
      machine: finish(machine),
      config: shared,
      calibration,
      calibrationFile,
      validation,
      validationRepeats: reused?.validationRepeats ?? positiveInt('--repeats', String(options.repeats)),
      validationSteps,
      validationPriority: reused?.validationPriority ?? niceValue(String(options.priority)),
      validationSource: typeof options.reuseValidation === 'string' ? options.reuseValidation : 'this run',
      calibratedAmongRounds: source.amongRounds,
      grid,
      projections,
    };
    const plots = await simulatePlots(results);
    await writeFiles(out, { ...plots, ...simulateDocuments(results, Object.keys(plots), findings(validation, projections)) });
    process.stderr.write(`simulate: report in ${join(out, 'report.md')}\n`);
  });
}
