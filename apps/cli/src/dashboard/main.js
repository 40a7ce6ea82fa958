// The dashboard: reads GET /events with the job's token and shows the run as it goes.
import { drawChart } from './chart.js';
import { byId, show } from './dom.js';
import { clock, count, duration, loss, NONE, percent, percentTick } from './format.js';
import { readEvents } from './sse.js';
import { showConfig, showFaults, showShards, showWorkers } from './tables.js';
import { forgetToken, takeToken } from './token.js';

/**
 * @typedef {{ step: number, epoch: number, loss: number | null, lr: number, gradNorm: number, t: number }} StepPoint
 * @typedef {{ step: number, epoch: number, split: 'validation' | 'test', loss: number | null, accuracy: number | null, t: number }} EvalPoint
 * @typedef {{ config: Record<string, unknown>, totalSteps: number, stepsPerEpoch: number, startedAt: number }} Job
 * @typedef {{ state: 'done', steps: number, testAccuracy: number, testLoss: number, wallSeconds: number } | { state: 'failed', message: string }} End
 * @typedef {import('./tables.js').Fault} Fault
 * @typedef {Record<string, any>} Status
 */

/** Faults the page keeps (the coordinator sends at most this many on connect, too). */
const MAX_FAULTS = 200;
/** Waits between reconnection attempts, longest last. */
const RETRY_MS = [1_000, 2_000, 5_000];

const state = {
  /** @type {Job | undefined} */ job: undefined,
  /** @type {StepPoint[]} */ steps: [],
  /** @type {EvalPoint[]} */ evals: [],
  /** @type {Fault[]} */ faults: [],
  /** @type {Status | undefined} */ status: undefined,
  /** @type {End | undefined} */ end: undefined,
  /** @type {'step' | 'time'} */ x: 'step',
  /** The loss on a log scale. */
  yLog: false,
};

/**
 * @param {string} type
 * @param {any} data
 */
function apply(type, data) {
  if (type === 'job') state.job = data;
  else if (type === 'steps') state.steps = data;
  else if (type === 'evals') state.evals = data;
  else if (type === 'faults') state.faults = data;
  else if (type === 'step') state.steps.push(data);
  else if (type === 'eval') state.evals.push(data);
  else if (type === 'fault') state.faults = [...state.faults, data].slice(-MAX_FAULTS);
  else if (type === 'status') state.status = data;
  else if (type === 'end') state.end = data;
  redraw();
}

let pending = false;
/** At most one drawing per frame, however many events arrive. */
function redraw() {
  if (pending) return;
  pending = true;
  requestAnimationFrame(() => {
    pending = false;
    draw();
  });
}

function draw() {
  const { job, status, end } = state;
  const last = state.steps.at(-1);
  const step = Math.max(status?.step ?? 0, last?.step ?? 0, status?.lastStep?.step ?? 0);
  const total = job?.totalSteps ?? status?.totalSteps;
  show('step', `${count(step)} / ${count(total)}`, { step });
  const progress = /** @type {HTMLProgressElement} */ (byId('step-progress'));
  progress.max = total || 1;
  progress.value = step;
  const epoch = status?.lastStep?.epoch ?? last?.epoch;
  show('epoch', job && epoch ? `${epoch} / ${Math.ceil(job.totalSteps / job.stepsPerEpoch)}` : NONE);
  show('samples-per-second', count(status?.samplesPerSecond));
  show('eta', end?.state === 'done' ? 'done' : duration(status?.etaSeconds));
  show('train-loss', loss(status?.lastStep?.loss ?? last?.loss));
  const tests = state.evals.filter((e) => e.split === 'test');
  show('test-accuracy', percent(end?.state === 'done' ? end.testAccuracy : tests.at(-1)?.accuracy));
  const jobState = end?.state ?? status?.state ?? 'connecting';
  show('job-state', jobState, { state: jobState });

  const t0 = Math.min(state.steps[0]?.t ?? Infinity, state.evals[0]?.t ?? Infinity, job?.startedAt ?? Infinity);
  /** @type {(p: { step: number, t: number }) => number} */
  const x = state.x === 'step' ? (p) => p.step : (p) => (p.t - t0) / 1000;
  const xFormat = state.x === 'time' ? clock : undefined;
  /** @param {'validation' | 'test'} split @param {'loss' | 'accuracy'} key */
  const evalLine = (split, key) => state.evals.filter((e) => e.split === split).map((e) => ({ x: x(e), y: e[key] }));
  drawChart(
    /** @type {SVGSVGElement} */ (/** @type {unknown} */ (byId('loss-chart'))),
    [
      { label: 'train loss', kind: 'train', points: state.steps.map((p) => ({ x: x(p), y: p.loss })) },
      { label: 'validation loss', kind: 'validation', points: evalLine('validation', 'loss'), dots: true },
      { label: 'test loss', kind: 'test', points: evalLine('test', 'loss'), dots: true },
    ],
    { x: xFormat, yLog: state.yLog, yFloor: 0, empty: 'waiting for the first step…' },
  );
  drawChart(
    /** @type {SVGSVGElement} */ (/** @type {unknown} */ (byId('accuracy-chart'))),
    [
      { label: 'test accuracy', kind: 'test', points: evalLine('test', 'accuracy'), dots: true },
      { label: 'validation accuracy', kind: 'validation', points: evalLine('validation', 'accuracy'), dots: true },
    ],
    { x: xFormat, y: percentTick, yFloor: 0, yCeiling: 1, empty: 'waiting for the first evaluation (at the end of an epoch)…' },
  );
  if (status) {
    showWorkers(status.workers ?? [], status.at);
    showShards(status.shards ?? []);
  }
  showFaults(state.faults);
  if (job) showConfig(job.config, { totalSteps: job.totalSteps, stepsPerEpoch: job.stepsPerEpoch });
  if (end?.state === 'done')
    connection('ended', `finished: ${count(end.steps)} steps in ${duration(end.wallSeconds)}, test accuracy ${percent(end.testAccuracy)}`);
  if (end?.state === 'failed') connection('ended', `the job failed: ${end.message}`);
}

/**
 * The connection line under the title.
 * @param {'connecting' | 'live' | 'retrying' | 'ended'} kind
 * @param {string} text
 */
function connection(kind, text) {
  show('connection', text, { state: kind });
}

/**
 * A message in place of the dashboard's data (no token, a refused one).
 * @param {string[]} lines
 */
function notice(lines) {
  const box = byId('notice');
  box.replaceChildren(...lines.map((line) => Object.assign(document.createElement('p'), { textContent: line })));
  box.hidden = false;
}

/** @param {string} token */
async function follow(token) {
  for (let failures = 0, first = true; ; first = false) {
    connection('connecting', first ? 'connecting…' : 'reconnecting…');
    let why = '';
    try {
      const response = await fetch('/events', { headers: { authorization: `Bearer ${token}` }, cache: 'no-store' });
      if (response.status === 401) {
        forgetToken();
        connection('ended', 'the token was refused');
        notice([
          'The coordinator refused the token this page was opened with (401): it is not the token of the job running here.',
          'Open the dashboard address this job printed when it started (its log line with "dashboard http://…/#token=…").',
        ]);
        return;
      }
      if (!response.ok) throw new Error(`GET /events answered ${response.status}: ${(await response.text()).trim()}`);
      failures = 0;
      connection('live', 'live');
      await readEvents(response, apply);
      why = 'the stream ended';
    } catch (error) {
      why = error instanceof Error ? error.message : String(error);
    }
    // The coordinator closes the stream when the job is over: nothing more will come.
    if (state.end) return;
    const wait = RETRY_MS[Math.min(failures++, RETRY_MS.length - 1)];
    connection('retrying', `disconnected (${why}); retrying in ${wait / 1000} s`);
    await new Promise((resolve) => setTimeout(resolve, wait));
  }
}

for (const axis of /** @type {const} */ (['step', 'time'])) {
  byId(`x-${axis}`).addEventListener('click', () => {
    state.x = axis;
    for (const other of ['step', 'time']) byId(`x-${other}`).setAttribute('aria-pressed', String(other === axis));
    redraw();
  });
}
byId('y-log').addEventListener('click', () => {
  state.yLog = !state.yLog;
  byId('y-log').setAttribute('aria-pressed', String(state.yLog));
  redraw();
});
new ResizeObserver(redraw).observe(document.body);

/**
 * A link that opens a browser worker admitted by a fresh join token (GET /join): the job's token
 * itself never leaves this page.
 * @param {string} token
 */
async function offerJoinLink(token) {
  const response = await fetch('/join', { headers: { authorization: `Bearer ${token}` }, cache: 'no-store' });
  if (!response.ok) return;
  const { url } = /** @type {{ url: string }} */ (await response.json());
  const link = /** @type {HTMLAnchorElement} */ (byId('join'));
  link.href = url;
  link.hidden = false;
}

const token = takeToken();
if (token === undefined) {
  connection('ended', 'no token');
  notice([
    "This dashboard needs the job's token, and this page was opened without it.",
    'Open the address that `dptrain local` or `dptrain coordinator` printed when it started listening: its log line says "dashboard http://HOST:PORT/#token=…".',
    'The token stays in the part after "#", which the browser never sends to the server; this tab keeps it until it is closed.',
  ]);
} else {
  redraw();
  void follow(token);
  void offerJoinLink(token).catch(() => undefined);
}
