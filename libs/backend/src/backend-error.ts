export type BackendErrorCode = 'E_BACKEND_UNAVAILABLE' | 'E_BACKEND_CHOICE';

/** A backend that was asked for cannot be used; `message` says why and what to do instead. */
export class BackendError extends Error {
  override readonly name = 'BackendError';
  constructor(
    readonly code: BackendErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}
