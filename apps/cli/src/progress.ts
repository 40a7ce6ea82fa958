import { SingleBar, Presets } from 'cli-progress';
import { StepRate } from './step-rate.js';

/** What a run's progress is measured against. */
export interface ProgressPlan {
  readonly totalSteps: number;
  readonly stepsPerEpoch: number;
  readonly batchSize: number;
}

/** A closed step: `step` counts the steps done, `epoch` the epochs from 1, as metrics.jsonl does. */
export interface StepEvent {
  readonly step: number;
  readonly epoch: number;
  readonly loss: number;
}

export interface EvalEvent {
  readonly step: number;
  readonly epoch: number;
  readonly split: 'test' | 'validation';
  readonly loss: number;
  readonly accuracy: number;
}

export interface RunResult {
  readonly steps: number;
  readonly testAccuracy: number;
  readonly testLoss: number;
  readonly wallSeconds: number;
  readonly out: string;
}

/** Output streams, injectable for tests. */
export interface ProgressStreams {
  /** Bars and periodic lines (stderr). */
  readonly status: NodeJS.WritableStream & { isTTY?: boolean };
  /** One line per epoch and the result (stdout). */
  readonly results: NodeJS.WritableStream;
}

/**
 * Progress as Keras shows it: on a terminal a bar per epoch with the loss, samples/s and an ETA
 * from the recent rate; elsewhere a line every `everySteps` steps. At each epoch's end one line
 * with its train loss, validation and test accuracy and its time, and at the end the test
 * accuracy and where the run folder is.
 */
export class TrainingProgress {
  private bar: SingleBar | undefined;
  private barEpoch = -1;
  private readonly rate: StepRate;
  private epochLoss = { sum: 0, steps: 0 };
  private epochStarted = performance.now();
  private validation: EvalEvent | undefined;

  constructor(
    private readonly label: string,
    private readonly plan: ProgressPlan,
    private readonly streams: ProgressStreams = { status: process.stderr, results: process.stdout },
    private readonly everySteps = 100,
  ) {
    this.rate = new StepRate(plan);
  }

  private get epochs(): number {
    return Math.ceil(this.plan.totalSteps / this.plan.stepsPerEpoch);
  }

  /** Steps of `epoch` (1-based): the last may be cut short by --steps. */
  private stepsIn(epoch: number): number {
    return Math.min(this.plan.stepsPerEpoch, this.plan.totalSteps - (epoch - 1) * this.plan.stepsPerEpoch);
  }

  step(e: StepEvent): void {
    this.rate.step(e.step);
    this.epochLoss.sum += e.loss;
    this.epochLoss.steps++;
    const inEpoch = e.step - (e.epoch - 1) * this.plan.stepsPerEpoch;
    const rate = this.rate.rate();
    const sps = rate ? Math.round(rate.samplesPerSecond).toLocaleString('en-US') : '…';
    const eta = rate ? duration(rate.etaSeconds) : '…';
    const fields = { epoch: `${e.epoch}/${this.epochs}`, loss: (this.epochLoss.sum / this.epochLoss.steps).toFixed(4), sps, eta };
    if (this.streams.status.isTTY) {
      if (this.barEpoch !== e.epoch) {
        this.bar?.stop();
        this.bar = new SingleBar(
          {
            format: `${this.label} epoch {epoch} [{bar}] {value}/{total} | loss {loss} | {sps} samples/s | eta {eta}`,
            stream: this.streams.status,
            hideCursor: true,
            clearOnComplete: true,
          },
          Presets.shades_classic,
        );
        this.bar.start(this.stepsIn(e.epoch), 0, fields);
        this.barEpoch = e.epoch;
      }
      this.bar!.update(inEpoch, fields);
    } else if (e.step % this.everySteps === 0 || e.step === this.plan.totalSteps) {
      this.streams.status.write(
        `${this.label} epoch ${fields.epoch} step ${inEpoch}/${this.stepsIn(e.epoch)} loss ${fields.loss} ${sps} samples/s eta ${eta}\n`,
      );
    }
  }

  /** A validation result waits for the epoch's test result; the test result closes the epoch's line. */
  eval(e: EvalEvent): void {
    if (e.split === 'validation') {
      this.validation = e;
      return;
    }
    this.stop();
    const trainLoss = this.epochLoss.steps > 0 ? (this.epochLoss.sum / this.epochLoss.steps).toFixed(4) : '–';
    const validation = this.validation ? `validation accuracy ${percent(this.validation.accuracy)} (loss ${this.validation.loss.toFixed(4)}), ` : '';
    this.streams.results.write(
      `epoch ${e.epoch}/${this.epochs}: train loss ${trainLoss}, ${validation}test accuracy ${percent(e.accuracy)} (loss ${e.loss.toFixed(4)}), ${duration((performance.now() - this.epochStarted) / 1000)}\n`,
    );
    this.epochLoss = { sum: 0, steps: 0 };
    this.epochStarted = performance.now();
    this.validation = undefined;
  }

  finish(result: RunResult): void {
    this.stop();
    const rate = (result.steps * this.plan.batchSize) / result.wallSeconds;
    this.streams.results.write(
      `test accuracy ${percent(result.testAccuracy)} (loss ${result.testLoss.toFixed(4)}) after ${result.steps.toLocaleString('en-US')} steps in ${duration(result.wallSeconds)}, ${Math.round(rate).toLocaleString('en-US')} samples/s; run folder ${result.out}\n`,
    );
  }

  /** Writes a line of other output (a child's log) to the status stream, above the bar. */
  print(line: string): void {
    if (this.bar) {
      this.streams.status.write(`\r\u001b[2K${line.endsWith('\n') ? line : `${line}\n`}`);
      this.bar.render();
      return;
    }
    this.streams.status.write(line.endsWith('\n') ? line : `${line}\n`);
  }

  /** Takes the bar off the terminal (before other output, or on an interrupt). */
  stop(): void {
    this.bar?.stop();
    this.bar = undefined;
    this.barEpoch = -1;
  }
}

function percent(x: number): string {
  return `${(x * 100).toFixed(2)}%`;
}

/** 75 → "1m15s", 3.2 → "3.2 s". */
export function duration(seconds: number): string {
  if (!Number.isFinite(seconds)) return '…';
  if (seconds < 60) return `${seconds.toFixed(1)} s`;
  const m = Math.floor(seconds / 60);
  return m < 60 ? `${m}m${String(Math.round(seconds % 60)).padStart(2, '0')}s` : `${Math.floor(m / 60)}h${String(m % 60).padStart(2, '0')}m`;
}
