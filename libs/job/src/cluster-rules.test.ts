import { ConfigError, parseConfig } from '@dptrain/config';
import { describe, expect, it } from 'vitest';
import { checkClusterConfig, clusterRuleViolations } from './cluster-rules.js';

const job = (raw: Record<string, unknown>) => parseConfig({ out: 'x', ...raw });

describe('the cluster rules', () => {
  it('let a job through that every role can run', () => {
    expect(clusterRuleViolations(job({ psShards: 2, mode: 'sync' }))).toEqual([]);
    expect(clusterRuleViolations(job({ psShards: 1, clipNorm: 1, optimizer: 'lbfgs', mode: 'async' }))).toEqual([]);
  });

  it('name every setting a sharded or async cluster cannot honour, with the fix', () => {
    const violations = clusterRuleViolations(job({ psShards: 2, clipNorm: 1, optimizer: 'lbfgs', mode: 'async' }));
    expect(violations).toHaveLength(3);
    expect(violations.every((v) => v.includes('help:'))).toBe(true);
    expect(() => checkClusterConfig(job({ psShards: 2, clipNorm: 1 }))).toThrow(ConfigError);
  });
});
