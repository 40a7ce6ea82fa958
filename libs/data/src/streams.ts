/**
 * Purposes that draw random numbers, each with its own stream so that, say, the holdout split and
 * the first epoch's shuffle under the same seed are unrelated.
 */
export const STREAM = {
  epochShuffle: 1,
  holdout: 2,
  kFold: 3,
  syntheticPrototypes: 4,
  syntheticTrain: 5,
  syntheticTest: 6,
} as const;
