import { ConfigError, parseConfig } from '@dptrain/config';
import { describe, expect, it } from 'vitest';
import { parseJobDescription } from './description.js';

const config = parseConfig({ dataset: 'synthetic', batchSize: 32, microBatchSize: 8, out: 'runs/x' });
const sent = (): Record<string, unknown> => JSON.parse(JSON.stringify({ config, inputShape: [28, 28, 1], numClasses: 10, trainCount: 512 }));

function refusal(value: unknown): string {
  try {
    parseJobDescription(value);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as Error).message;
  }
  throw new Error('accepted');
}

describe('parseJobDescription', () => {
  it('gives back the job the coordinator resolved, after its trip through JSON', () => {
    expect(parseJobDescription(sent())).toEqual({ config, inputShape: [28, 28, 1], numClasses: 10, trainCount: 512 });
  });

  it('refuses a job config the schema refuses, naming the key and the rule', () => {
    const value = sent();
    (value.config as Record<string, unknown>).microBatchSize = 5;
    expect(refusal(value)).toMatch(/microBatchSize .*must divide batchSize \(32\)/);
  });

  it('refuses keys this version does not know, with the fix', () => {
    const value = sent();
    (value.config as Record<string, unknown>).turbo = true;
    expect(refusal(value)).toMatch(/unknown key "turbo"/);
    expect(refusal({ ...sent(), extra: 1 })).toMatch(/same dptrain version/);
  });

  it('refuses data-set facts that cannot build a model or a plan', () => {
    expect(refusal({ ...sent(), trainCount: 0 })).toMatch(/trainCount/);
    expect(refusal({ ...sent(), inputShape: [] })).toMatch(/inputShape/);
    expect(refusal({ ...sent(), numClasses: 1.5 })).toMatch(/numClasses/);
    expect(refusal(null)).toMatch(/not a job description/);
  });

  it("applies the cluster's rules: a job no role may run is refused on arrival too", () => {
    const value = sent();
    Object.assign(value.config as Record<string, unknown>, { mode: 'async', psShards: 2 });
    expect(refusal(value)).toMatch(/mode async needs one parameter-server shard/);
  });
});
