import { SingleBar, Presets } from 'cli-progress';

export interface ProgressUpdate {
  readonly step: number;
  readonly totalSteps: number;
  readonly epoch: number;
  readonly loss: number;
  readonly samplesPerSecond: number;
}

/** A bar on a terminal; otherwise a plain line every `everySteps` steps (and the last one). */
export class Progress {
  private readonly bar: SingleBar | undefined;
  private started = false;

  constructor(
    private readonly label: string,
    private readonly everySteps = 50,
    interactive = Boolean(process.stderr.isTTY),
  ) {
    this.bar = interactive
      ? new SingleBar(
          { format: `${label} [{bar}] {value}/{total} steps | epoch {epoch} | loss {loss} | {sps} samples/s | eta {eta_formatted}`, stream: process.stderr, hideCursor: true },
          Presets.shades_classic,
        )
      : undefined;
  }

  update(u: ProgressUpdate): void {
    const payload = { epoch: u.epoch + 1, loss: u.loss.toFixed(4), sps: Math.round(u.samplesPerSecond) };
    if (this.bar) {
      if (!this.started) this.bar.start(u.totalSteps, 0, payload);
      this.started = true;
      this.bar.update(u.step, payload);
    } else if (u.step % this.everySteps === 0 || u.step === u.totalSteps) {
      process.stderr.write(`${this.label} step ${u.step}/${u.totalSteps} epoch ${payload.epoch} loss ${payload.loss} ${payload.sps} samples/s\n`);
    }
  }

  stop(): void {
    this.bar?.stop();
  }
}
