export { defaultRunFolder, jobConfigSchema, MODEL_NAMES, DATASET_NAMES, OPTIMIZER_NAMES, BACKEND_NAMES, NORM_NAMES, SCHEDULE_NAMES } from './schema.js';
export type { JobConfig, JobConfigInput } from './schema.js';
export { resolveConfig, readConfigFile, parseConfig } from './resolve-config.js';
export type { ResolveConfigOptions } from './resolve-config.js';
export { ENV_PREFIX, RESERVED_ENV, envNameOf } from './env.js';
export { ConfigError } from './config-error.js';
export { FLAGS, flagFor } from './flags.js';
export type { FlagSpec } from './flags.js';
