// The job module moved to @dptrain/job; the roles' own imports move with the coordinator and shard split.
export { checkClusterConfig, planSizes } from '@dptrain/job';
export type { JobDescription, PlanSizes } from '@dptrain/job';
