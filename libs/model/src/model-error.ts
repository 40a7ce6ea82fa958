import { CodedRangeError } from '@dptrain/errors';

/**
 * Error codes of `@dptrain/model`. Each names one cause; the message carries the offending value
 * and the fix.
 * - `E_MODEL_CONFIG`: a `ModelConfig` field is missing, out of range or does not apply to the model.
 * - `E_MODEL_SEED`: the initialisation seed is not a non-negative safe integer.
 * - `E_MODEL_PARAMS`: a flat parameter (or gradient) vector has the wrong length.
 * - `E_MODEL_BATCH`: a batch's arrays disagree with its `count` or the model's input shape.
 * - `E_MODEL_LABEL`: a label lies outside `[0, numClasses)`.
 * - `E_MODEL_BN_STATE`: the batch-norm running statistics vector has the wrong length.
 * - `E_MODEL_BN_STATS`: batch-norm moments disagree with each other or with the layer layout.
 * - `E_MODEL_DISPOSED`: the model was used after `dispose()`.
 * - `E_MODEL_EXPORT`: the model has a layer another framework's format cannot hold.
 */
export type ModelErrorCode =
  | 'E_MODEL_CONFIG'
  | 'E_MODEL_SEED'
  | 'E_MODEL_PARAMS'
  | 'E_MODEL_BATCH'
  | 'E_MODEL_LABEL'
  | 'E_MODEL_BN_STATE'
  | 'E_MODEL_BN_STATS'
  | 'E_MODEL_DISPOSED'
  | 'E_MODEL_EXPORT';

/**
 * A model, a batch or a statistics vector cannot be used as given. A `RangeError`, so callers
 * that only distinguish built-in error types still see "a value out of range".
 */
export class ModelError extends CodedRangeError<ModelErrorCode> {}
