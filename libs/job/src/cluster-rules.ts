import { ConfigError, type JobConfig } from '@dptrain/config';

/**
 * The settings a cluster cannot run with (CLUSTER.md, "Shards"), each with its reason and fix.
 * `dptrain train` runs them all: these rules bind the roles only.
 */
export function clusterRuleViolations(config: JobConfig): string[] {
  const out: string[] = [];
  if (config.psShards > 1 && config.clipNorm !== undefined) {
    out.push(`clipNorm ${config.clipNorm} needs the whole gradient at once, but psShards is ${config.psShards}; help: use --ps-shards 1 or drop --clip-norm`);
  }
  if (config.psShards > 1 && config.optimizer === 'lbfgs') {
    out.push(`optimizer lbfgs needs the whole vector at once, but psShards is ${config.psShards}; help: use --ps-shards 1`);
  }
  if (config.mode === 'async' && config.psShards > 1) {
    out.push(
      `mode async needs one parameter-server shard, but psShards is ${config.psShards}: each shard would judge staleness on its own version and could apply half of a micro-batch; help: use --ps-shards 1 with --mode async, or --mode sync`,
    );
  }
  return out;
}

/**
 * Refuses settings the cluster cannot run with.
 * @throws {ConfigError} E_CONFIG_VALUE naming each setting, its value and the fix
 */
export function checkClusterConfig(config: JobConfig): void {
  const violations = clusterRuleViolations(config);
  if (violations.length > 0) throw new ConfigError('E_CONFIG_VALUE', violations.join('\n'));
}
