import { medianCalibration, type Calibration } from '@dptrain/simulator';

/**
 * The calibration the validation predicts with, and when it is measured. A virtual machine's
 * speed drifts by a fifth over minutes: calibrations taken back to back before half an hour of
 * real runs meet one stretch of the machine, and the runs another. Spread over the rounds, the
 * calibrations meet the machine the runs meet.
 */
export interface RoundCalibration {
  /** Cores of the machine, known before any calibration. */
  readonly cores: number;
  /** Called before round `round` (0-based) of `rounds` of real runs. */
  beforeRound(round: number, rounds: number): Promise<void>;
  /** The calibration to predict with, once the real runs are done. */
  result(): Calibration;
  /** Whether the calibrations were taken among the rounds, for the report. */
  readonly amongRounds: boolean;
}

/** A calibration measured before (or read from a file): nothing is taken during the runs. */
export function fixedCalibration(calibration: Calibration): RoundCalibration {
  return { cores: calibration.cores, beforeRound: async () => undefined, result: () => calibration, amongRounds: false };
}

/**
 * How many of `total` calibrations are taken before round `round` (0-based) of `rounds`: spread
 * as evenly as whole calibrations allow, at least one before the first round.
 */
export function calibrationsBeforeRound(round: number, rounds: number, total: number): number {
  const upTo = (r: number) => Math.ceil((r * total) / rounds);
  return upTo(round + 1) - upTo(round);
}

/**
 * `total` calibrations by `take(k)` (k from 1), calibrationsBeforeRound of them before each
 * round; the result is their median (medianCalibration).
 */
export function calibrationAmongRounds(cores: number, total: number, take: (k: number) => Promise<Calibration>): RoundCalibration {
  const each: Calibration[] = [];
  return {
    cores,
    amongRounds: true,
    async beforeRound(round, rounds) {
      for (let i = calibrationsBeforeRound(round, rounds, total); i > 0; i--) each.push(await take(each.length + 1));
    },
    result() {
      if (each.length === 0) throw new Error('calibrationAmongRounds: no calibration was taken (beforeRound was never called)');
      return medianCalibration(each);
    },
  };
}
