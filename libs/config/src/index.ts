export { BACKEND_NAMES, NORM_NAMES } from './schema.js';
export type { JobConfig } from './schema.js';
export { resolveConfig } from './resolve-config.js';
export { parseConfig } from './parse-config.js';
export { RESERVED_ENV } from './env.js';
export { ConfigError } from './config-error.js';
export { FLAGS, flagFor } from './flags.js';
