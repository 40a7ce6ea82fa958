export { ParameterServer } from './parameter-server/parameter-server.js';
export type { ParameterServerOptions } from './parameter-server/parameter-server.js';
export { shardRange, shardRanges } from './shards.js';
export type { ShardRange } from './shards.js';
export { JobState, LeaseState, WorkerState, TransitionError, transition } from './lifecycle.js';
export { checkClusterConfig, planSizes } from './job.js';
export type { JobDescription, PlanSizes } from './job.js';
export { bnStatsLength, packMoments, unpackMoments } from './bn-wire.js';
export { modelOf } from './model-of.js';
