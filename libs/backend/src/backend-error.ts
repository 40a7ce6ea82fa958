import { CodedError } from '@dptrain/errors';

export type BackendErrorCode = 'E_BACKEND_UNAVAILABLE' | 'E_BACKEND_CHOICE';

/** A backend that was asked for cannot be used; `message` says why and what to do instead. */
export class BackendError extends CodedError<BackendErrorCode> {}
