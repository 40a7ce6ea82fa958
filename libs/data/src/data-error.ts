import { CodedError, CodedRangeError } from '@dptrain/errors';

/**
 * What went wrong with a data set's files, its location or its download. Every message names the
 * file or place at fault and what to do about it.
 *
 * - `E_DATA_NOT_FOUND`: no search location holds the files and the download failed or was off.
 * - `E_DATA_CHECKSUM`: a downloaded file's SHA-256 differs from the published one (file removed).
 * - `E_DATA_DOWNLOAD`: a download could not complete for a reason other than being offline.
 * - `E_IDX_BAD_MAGIC`: the first four bytes are not the IDX magic number expected for the file.
 * - `E_IDX_BAD_GZIP`: the file starts like gzip but does not decompress.
 * - `E_IDX_TRUNCATED`: the file (or its gzip stream) ends before the data its header announces.
 * - `E_IDX_TRAILING_DATA`: bytes follow the data its header announces.
 * - `E_IDX_BAD_SHAPE`: an image file whose rows × columns are not the data set's.
 * - `E_IDX_MISMATCH`: image and label files of one split disagree on the number of samples.
 * - `E_IDX_BAD_LABEL`: a label outside 0..numClasses−1.
 * - `E_IMAGE_MISSING`: an image file to classify does not exist (or is a directory).
 * - `E_IMAGE_FORMAT`: an image to classify is neither a PNG nor an IDX file of images.
 * - `E_IMAGE_SIZE`: an image to classify is not of the model's input size.
 */
export type DataErrorCode =
  | 'E_DATA_NOT_FOUND'
  | 'E_DATA_CHECKSUM'
  | 'E_DATA_DOWNLOAD'
  | 'E_IDX_BAD_MAGIC'
  | 'E_IDX_BAD_GZIP'
  | 'E_IDX_TRUNCATED'
  | 'E_IDX_TRAILING_DATA'
  | 'E_IDX_BAD_SHAPE'
  | 'E_IDX_MISMATCH'
  | 'E_IDX_BAD_LABEL'
  | 'E_IMAGE_MISSING'
  | 'E_IMAGE_FORMAT'
  | 'E_IMAGE_SIZE';

/** A data set that cannot be found, fetched or read; never a silently partial data set. */
export class DataError extends CodedError<DataErrorCode> {
  /** The file or directory at fault, when there is one. */
  readonly path: string | undefined;
  constructor(code: DataErrorCode, message: string, options?: { cause?: unknown; path?: string }) {
    super(code, message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.path = options?.path;
  }
}

/**
 * An option that cannot work (a plan, split or generator setting). It is a `RangeError`, so callers
 * that only know the standard classes still catch it; `option` and `value` name the culprit.
 *
 * - `E_PLAN_MICRO_BATCH`: `microBatchSize` does not divide `batchSize`.
 * - `E_PLAN_STEP`: a step or micro-batch id outside the plan.
 * - `E_DATA_OPTION`: any other option out of its range.
 */
export type DataOptionErrorCode = 'E_PLAN_MICRO_BATCH' | 'E_PLAN_STEP' | 'E_DATA_OPTION';

export class DataOptionError extends CodedRangeError<DataOptionErrorCode> {
  constructor(
    code: DataOptionErrorCode,
    readonly option: string,
    readonly value: unknown,
    message: string,
  ) {
    super(code, message);
  }
}
