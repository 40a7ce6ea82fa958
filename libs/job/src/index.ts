export { parseJobDescription } from './description.js';
export type { JobDescription } from './description.js';
export { checkClusterConfig, clusterRuleViolations } from './cluster-rules.js';
export { planOf, planSizes } from './plan.js';
export type { PlanSizes } from './plan.js';
export { modelConfigOf, optimizerConfigOf } from './settings.js';
export { pinnedCores } from './cpu-pinning.js';
export type { PinnedCluster } from './cpu-pinning.js';
