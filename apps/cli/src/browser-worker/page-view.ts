import type { WorkerProgress } from '@dptrain/cluster';

/** The reason run() returns with after the page's Stop button. */
export const STOPPED_FROM_PAGE = 'stopped from the page';

/** What the tab is doing, as the page shows it and as `window.dptrainWorker` gives it to scripts. */
export interface TabState {
  state: 'starting' | 'training' | 'done' | 'stopped' | 'failed';
  workerId?: number;
  backend?: string;
  leases: number;
  microBatches: number;
  samplesPerSecond?: number;
  message?: string;
}

const STATE_TEXT: Record<TabState['state'], string> = {
  starting: 'Starting…',
  training: 'Training: this tab computes leased micro-batches.',
  done: 'The job is over.',
  stopped: 'Stopped.',
  failed: 'Failed.',
};

/** The page's elements, kept in step with a TabState. */
export class PageView {
  readonly state: TabState = { state: 'starting', leases: 0, microBatches: 0 };
  private microBatchSize = 0;
  private rateFrom: { at: number; microBatches: number } | undefined;

  constructor(private readonly doc: Document) {}

  update(change: Partial<TabState>): void {
    Object.assign(this.state, change);
    const { state, workerId, backend, leases, microBatches, samplesPerSecond, message } = this.state;
    const status = this.element('state');
    status.dataset.state = state;
    status.textContent = message ? `${STATE_TEXT[state]} ${message}` : STATE_TEXT[state];
    this.element('worker').textContent = workerId === undefined ? '–' : `worker ${workerId}`;
    this.element('backend').textContent = backend ?? '–';
    this.element('leases').textContent = String(leases);
    this.element('micro-batches').textContent = String(microBatches);
    this.element('rate').textContent = samplesPerSecond === undefined ? '–' : Math.round(samplesPerSecond).toLocaleString('en');
  }

  registered(workerId: number, microBatchSize: number): void {
    this.microBatchSize = microBatchSize;
    (this.element('stop') as HTMLButtonElement).disabled = false;
    this.update({ state: 'training', workerId, message: undefined });
  }

  /** A connection failed and is tried again (attempt `attempt` of `of`). */
  retrying(attempt: number, of: number): void {
    this.update({ message: `connecting again (attempt ${attempt} of ${of})…` });
  }

  /** Counts from the worker; samples/s over the last ten seconds or so. */
  progress(progress: WorkerProgress): void {
    const now = performance.now();
    this.rateFrom ??= { at: now, microBatches: progress.microBatches };
    const seconds = (now - this.rateFrom.at) / 1000;
    const rate = seconds > 0.5 ? ((progress.microBatches - this.rateFrom.microBatches) * this.microBatchSize) / seconds : undefined;
    if (seconds > 10) this.rateFrom = { at: now, microBatches: progress.microBatches };
    this.update({ leases: progress.leases, microBatches: progress.microBatches, ...(rate === undefined ? {} : { samplesPerSecond: rate }) });
  }

  onStop(stop: () => void): void {
    this.element('stop').addEventListener('click', () => {
      (this.element('stop') as HTMLButtonElement).disabled = true;
      stop();
    });
  }

  finish(reason: string): void {
    (this.element('stop') as HTMLButtonElement).disabled = true;
    this.update({ state: reason === STOPPED_FROM_PAGE ? 'stopped' : 'done', message: reason });
  }

  fail(message: string): void {
    (this.element('stop') as HTMLButtonElement).disabled = true;
    this.update({ state: 'failed', message });
  }

  private element(id: string): HTMLElement {
    return this.doc.getElementById(id)!;
  }
}
