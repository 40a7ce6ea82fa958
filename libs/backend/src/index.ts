export { initBackend, BACKEND_CHOICES, parseBackendChoice } from './init-backend.js';
export type { BackendChoice, BackendName, BackendInfo, InitBackendOptions } from './init-backend.js';
export { BackendError } from './backend-error.js';
export type { BackendErrorCode } from './backend-error.js';
