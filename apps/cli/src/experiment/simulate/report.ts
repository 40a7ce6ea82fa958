import type { Calibration } from '@dptrain/simulator';
import { lineChart } from '../common/line-chart.js';
import type { Row } from '../common/plot.js';
import { provenance, type Machine } from '../common/report.js';
import { markdownTable, toCsv, type Column } from '../common/table.js';
import { describeCalibration } from './calibration-file.js';
import type { ProjectionGrid, ProjectionRow } from './project.js';
import { SPREAD_LIMIT, tally, TOLERANCE, type Verdict } from './judge.js';
import type { ValidationCells, ValidationRow } from './validate.js';

export interface SimulateResults {
  readonly experiment: 'simulate';
  readonly command: string;
  readonly machine: Machine;
  readonly config: Record<string, unknown>;
  readonly calibration: Calibration;
  readonly calibrationFile: string;
  readonly validation: readonly ValidationRow[] | null;
  readonly validationRepeats: number;
  /** Steps of each real run and of its simulation (absent in files written before it was kept). */
  readonly validationSteps?: number;
  /** Nice value the real runs had. */
  readonly validationPriority: number;
  /** Where the validation rows come from: this run, or the results.json given to --reuse-validation. */
  readonly validationSource: string;
  /** The calibrations were taken among the validation's rounds of real runs (round-calibration.ts), not all before them. */
  readonly calibratedAmongRounds?: boolean;
  readonly grid: ProjectionGrid | null;
  readonly projections: readonly ProjectionRow[];
}

const VALIDATION_COLUMNS: readonly Column[] = [
  { key: 'id', header: 'configuration' },
  { key: 'measured', header: 'measured samples/s (median)' },
  { key: 'min', header: 'least' },
  { key: 'max', header: 'greatest' },
  { key: 'spread', header: 'spread' },
  { key: 'repeats', header: 'each real run (background)' },
  { key: 'background', header: 'background (median)' },
  { key: 'predicted', header: 'predicted samples/s' },
  { key: 'predictedQuiet', header: 'predicted, quiet machine' },
  { key: 'error', header: 'error' },
  { key: 'verdict', header: 'verdict' },
  { key: 'cpuPerStep', header: 'CPU ms per step, measured (least–greatest) / modelled' },
  { key: 'cpuRatio', header: 'CPU measured / modelled' },
  { key: 'cpuShares', header: 'CPU share % worker / shard / coordinator, measured vs modelled' },
  { key: 'coreIdle', header: 'idle ms/step by core, measured vs modelled' },
  { key: 'errorAtRunSpeed', header: "error at each run's CPU (least to greatest)" },
  { key: 'verdictAtRunSpeed', header: "verdict at each run's CPU" },
  { key: 'measuredSplit', header: 'measured compute / pull / push / wait ms per step' },
  { key: 'predictedSplit', header: 'predicted compute / pull / push / wait' },
  { key: 'note', header: 'note' },
];

/** A row's table cells: everything but the runs themselves (the repeats column shows them). */
const cells = ({ runs: _runs, ...rest }: ValidationRow): ValidationCells => rest;

const PROJECTION_COLUMNS: readonly Column[] = [
  { key: 'series', header: 'variant' },
  { key: 'workers', header: 'workers' },
  { key: 'batchSize', header: 'global batch' },
  { key: 'samplesPerSecond', header: 'samples/s' },
  { key: 'efficiency', header: 'efficiency' },
  { key: 'stepP50Ms', header: 'step p50 ms' },
  { key: 'stepP99Ms', header: 'step p99 ms' },
  { key: 'busiestShard', header: 'busiest shard busy' },
  { key: 'networkMBPerStep', header: 'network MB per step' },
  { key: 'extraMicroBatches', header: 'extra micro-batches' },
  { key: 'staleReleased', header: 'stale re-leased' },
  { key: 'finished', header: 'finished' },
];

const SCENARIOS: readonly { key: string; title: string; question: string }[] = [
  {
    key: 'shards',
    title: 'Where the parameter server saturates, and how many shards fix it',
    question: 'Synchronous steps, one to several shard processes; co-located: a shard in each worker.',
  },
  {
    key: 'async',
    title: 'What async and bounded staleness buy',
    question: 'One shard; async applies each micro-batch gradient on its own when its version lag is within the bound, else the micro-batch is leased again.',
  },
  {
    key: 'stragglers',
    title: 'What backup leases do to the tail under stragglers',
    question: 'Synchronous, the most shards of the grid; some micro-batches compute several times slower.',
  },
];

export async function simulatePlots(results: SimulateResults): Promise<Record<string, string>> {
  const plots: Record<string, string> = {};
  for (const scenario of SCENARIOS) {
    const rows = results.projections.filter((r) => r.scenario === scenario.key) as unknown as Row[];
    if (rows.length === 0) continue;
    plots[`${scenario.key}.svg`] = await lineChart({
      title: scenario.title,
      rows,
      x: { field: 'workers', title: 'workers', scale: 'auto', count: true },
      y: { field: 'samplesPerSecond', title: 'samples/s (simulated)', scale: 'auto' },
      series: 'series',
      points: true,
    });
  }
  const tail = results.projections.filter((r) => r.scenario === 'stragglers') as unknown as Row[];
  if (tail.length > 0)
    plots['stragglers-p99.svg'] = await lineChart({
      title: 'Step time p99 under stragglers',
      rows: tail,
      x: { field: 'workers', title: 'workers', scale: 'auto', count: true },
      y: { field: 'stepP99Ms', title: 'step time p99 (ms, simulated)', scale: 'auto' },
      series: 'series',
      points: true,
    });
  return plots;
}

/** How the validation's processes shared the cores, for its method paragraph. */
function pinning(rows: readonly ValidationRow[]): string {
  const pinned = rows.filter((r) => r.pinned).length;
  if (pinned === 0) return '; each process on whichever core Linux gave it, simulated with one run queue for the host';
  const all = pinned === rows.length ? 'every configuration' : `${pinned} of the ${rows.length} configurations`;
  return `; ${all} with \`--pin-cpus\`, each process on one CPU (the workers first, then the shards, then the coordinator, round the cores), simulated with each process's threads on that core only`;
}

function validationSection(results: SimulateResults): string[] {
  const v = results.validation;
  if (!v) return ['## Validation', '', 'Not run (`--no-validate`).', ''];
  const outside = v.filter((r) => r.verdict === 'outside');
  const unmeasurable = v.filter((r) => r.verdict === 'unmeasurable');
  return [
    '## Validation: predicted vs measured on this machine',
    '',
    results.validationSource === 'this run'
      ? ''
      : `Validation runs taken from an earlier run of this command (\`--reuse-validation ${results.validationSource}\`): the real runs and their background were measured then; the predictions are this run's model and calibration, and the machine section below is this run's.\n`,
    `Each configuration ran for real as \`dptrain local\` (the co-located ones as \`dptrain local --colocate\`, simulated in the co-located layout${pinning(v)}) ${results.validationRepeats} time(s) (summary.json's steadySamplesPerSecond), in rounds of one run of each configuration, so that each configuration's runs spread over the whole validation and the machine's drift falls on all alike${results.calibratedAmongRounds ? ` (the calibrations were taken among the rounds, spread evenly, the first before the first round, so that the costs the model is given come from the stretch of the machine the runs met)` : ''}, at nice ${results.validationPriority} (ahead of other work on the machine when below 0), and was simulated with the same resolved job on one host of ${results.calibration.cores} cores shared by the coordinator, the shards and the workers in time slices (libs/simulator/README.md). The machine may be shared with other work: across each real run, the CPU all processes used (/proc/stat, steal included) less the CPU of the run's own processes gives the cores other work kept busy, and the configuration is predicted with the median of its runs' figures as that many other busy threads sharing the cores (\`background\`). Measured is the median of the runs, least and greatest their interval, spread = (greatest − least) / median. Error = (predicted − median) / median; verdict: within or outside ${TOLERANCE * 100}%, or unmeasurable when the runs themselves spread more than ${SPREAD_LIMIT * 100}% (not counted either way). The split columns are the run closest to the median. CPU per step is what all the run's processes used, every thread, from /proc over the steps closed between 30% and 85% of each run (run-cpu.ts), beside what the model charges them per step; a run of a virtual machine whose host is busy uses more CPU for the same work. The error at each run's CPU takes that out: each run's prediction is scaled by the model's CPU over the run's (judge.ts, errorAtRunSpeed). It tells an error of the model's ordering and waiting from a slower machine or a cost the model lacks; it is not the verdict, which is judged on the raw error. The CPU shares split each run's CPU by process (the workers with their co-located shards' threads, the shard processes, the coordinator; the median of the runs' shares) beside the model's split: where the host slows every process alike they do not move with its speed, and a share off points at a cost the model charges to the wrong process or lacks. The idle time per step of each core (/proc/stat's idle and iowait over the same steps, the median of the runs core by core, in the order the processes are pinned) beside the model's is the waiting CPU time does not show: where a core idles longer per step in the runs than in the model, the model's step is too short there whatever the machine's speed.`,
    '',
    markdownTable(VALIDATION_COLUMNS, v.map(cells)),
    '',
    `${tally(v.map((r) => r.verdict)).headline}.` +
      (outside.length > 0 ? ` Outside ${TOLERANCE * 100}%: ${outside.map((r) => r.id).join(', ')}.` : '') +
      (unmeasurable.length > 0 ? ` Unmeasurable: ${unmeasurable.map((r) => `${r.id} (spread ${((r.spread ?? 0) * 100).toFixed(0)}%)`).join(', ')}.` : ''),
    '',
    ...atRunSpeed(v),
  ];
}

/** The second judgement, with each run's machine speed taken out, where the runs' CPU was measured. */
function atRunSpeed(v: readonly ValidationRow[]): string[] {
  const judged = v.map((r) => r.verdictAtRunSpeed).filter((x): x is Verdict => x !== null && x !== undefined);
  if (judged.length === 0) return [];
  return [`At each run's CPU (not the verdict above; it takes out how fast the machine ran each run): ${tally(judged).headline}.`, ''];
}

/** What the model assumes of the co-located layout, for the report. */
function colocatedAssumptions(g: ProjectionGrid): string {
  return `Co-located layout (\`dptrain local --colocate\`, projected up to ${g.colocatedMaxWorkers} workers): worker k also serves shard k from a thread of its process, so there are as many shards as workers and no machine is a parameter server only. The model gives each co-located worker one machine of one core, as each process of the separate layout has: the shard's thread (decoding, folding, optimizer step, reply encoding) takes time slices from the worker's compute on that core. The machine's one link carries the worker's traffic with the other shards and its shard's traffic with the other workers. The worker reaches its own shard over a MessagePort: those frames cost the codec's encoding and decoding and the port's calibrated CPU on both threads, but no transport CPU (no socket) and no network time, so each worker puts (N−1)/N of every push and pull on the network. Busiest shard busy is the share of the time the shard's thread worked; network MB per step counts every link, in both layouts.`;
}

function projectionSection(results: SimulateResults, plotNames: readonly string[]): string[] {
  const g = results.grid;
  if (!g) return ['## Projections', '', 'Not run (`--no-project`).', ''];
  const lines = [
    '## Projections beyond this machine',
    '',
    `Each process on a host of its own (one core: a Node process is single-threaded) with this machine's measured CPU costs; backup leases (stragglers question) after ${g.backupAfter}× the step's median lease time and at least ${g.backupMinMs} ms (the job default, 500 ms, is longer than any lease here and would never fire); links of ${g.wire.bandwidthMBps} MB/s and ${g.wire.latencyMs} ms latency per process (a shard's incoming link carries every worker's pushes); ${g.microBatchesPerWorker} micro-batch(es) per worker per step, so the global batch grows with the workers; ${g.steps} steps per run, at most ${g.limitSeconds} virtual seconds (a run that needs longer is marked unfinished and shows the rate of the steps it closed). Samples/s here is the samples of the steps after the first 10% over the virtual time they took, not the steady-state median of rounds: async steps close in bursts, which that estimate misreads. Efficiency = samples/s over workers × one worker's compute-bound rate (micro-batch over the median compute time).`,
    '',
    ...(results.projections.some((r) => r.layout === 'colocated') ? [colocatedAssumptions(g), ''] : []),
  ];
  for (const scenario of SCENARIOS) {
    const rows = results.projections.filter((r) => r.scenario === scenario.key);
    if (rows.length === 0) continue;
    lines.push(`### ${scenario.title}`, '', scenario.question, '', markdownTable(PROJECTION_COLUMNS, rows), '');
    for (const name of plotNames.filter((n) => n.startsWith(scenario.key))) lines.push(`![${name}](${name})`, '');
  }
  return lines;
}

/** report.md, results.json and results.csv (validation and projection rows in one table). */
export function simulateDocuments(results: SimulateResults, plotNames: readonly string[], findings: readonly string[]): Record<string, string> {
  const report = [
    '# dptrain experiment simulate',
    '',
    'A discrete-event simulation that drives the real Coordinator and ParameterServer code in virtual time, with modelled workers, CPUs and links whose costs were measured on this machine.',
    '',
    ...(findings.length > 0 ? ['## What the numbers say', '', ...findings, ''] : []),
    ...validationSection(results),
    ...projectionSection(results, plotNames),
    '## Calibration',
    '',
    `From \`${results.calibrationFile}\`:`,
    '',
    ...describeCalibration(results.calibration),
    '',
    provenance(results.command, results.machine, results.config),
  ].join('\n');
  const keys = [
    'kind',
    'id',
    'scenario',
    'series',
    'layout',
    'workers',
    'psShards',
    'mode',
    'staleness',
    'backupAfter',
    'stragglers',
    'batchSize',
    'measured',
    'min',
    'max',
    'spread',
    'background',
    'predicted',
    'error',
    'verdict',
    'samplesPerSecond',
    'efficiency',
    'stepP50Ms',
    'stepP99Ms',
    'busiestShard',
    'networkMBPerStep',
    'extraMicroBatches',
    'staleReleased',
    'finished',
  ];
  const csvRows = [
    ...(results.validation ?? []).map((r) => ({ kind: 'validation', ...cells(r) })),
    ...results.projections.map((r) => ({ kind: 'projection', ...r })),
  ];
  return { 'report.md': report, 'results.json': `${JSON.stringify(results, null, 2)}\n`, 'results.csv': toCsv(keys, csvRows) };
}
