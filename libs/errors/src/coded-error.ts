type ErrorClass = new (message?: string, options?: { cause?: unknown }) => Error;

/** `base` with a stable `code` beside the message, and the subclass's own `name`. */
function withErrorCode(base: ErrorClass) {
  return class Coded<C extends string = string> extends base {
    readonly code: C;
    constructor(code: C, message: string, options?: { cause?: unknown }) {
      super(message, options);
      this.code = code;
      this.name = new.target.name;
    }
  };
}

/**
 * An error a user, a peer or a file can cause: `code` is stable for programs and tests (`E_…`),
 * the message names the cause and the fix for people, and `name` is the subclass's own.
 */
export const CodedError = withErrorCode(Error);
export type CodedError<C extends string = string> = InstanceType<typeof CodedError<C>>;

/**
 * A CodedError for a value out of its range. It stays a `RangeError`, so callers that only know
 * the standard classes still catch it.
 */
export const CodedRangeError = withErrorCode(RangeError);
export type CodedRangeError<C extends string = string> = InstanceType<typeof CodedRangeError<C>>;

/**
 * The base of an error class with one code, made from its message alone:
 * `class RunFolderError extends withCode('E_RUN_FOLDER') {}`.
 */
export function withCode<C extends string>(code: C) {
  return class extends CodedError<C> {
    constructor(message: string, options?: { cause?: unknown }) {
      super(code, message, options);
    }
  };
}

/** Whether `value` is an error of ours, carrying a code. */
export function isCodedError(value: unknown): value is CodedError | CodedRangeError {
  return value instanceof CodedError || value instanceof CodedRangeError;
}
