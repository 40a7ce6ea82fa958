import { ConfigError, parseConfig, type JobConfig } from '@dptrain/config';
import { z } from 'zod';
import { clusterRuleViolations } from './cluster-rules.js';

/**
 * What every process of a job must agree on, sent by the coordinator in `registered.config`: the
 * job config and the facts of the data set the model and the plan are built from, so a parameter
 * server never loads the data set.
 */
export interface JobDescription {
  readonly config: JobConfig;
  readonly inputShape: readonly number[];
  readonly numClasses: number;
  /** Samples in the training split the plan shuffles. */
  readonly trainCount: number;
}

const count = z.number().int().positive();

/** The data set's facts; `config` is checked by the job config's own schema (parseConfig). */
const factsSchema = z.strictObject({
  config: z.record(z.string(), z.unknown()),
  inputShape: z.array(count).min(1).max(8),
  numClasses: z.number().int().min(2).max(1_000_000),
  trainCount: count,
});

/**
 * Checks a job description received from a peer (the coordinator's `registered` reply) with the
 * schema the coordinator resolved it with, the cluster's rules included, so a shard or worker
 * never builds a model or a plan from a value no one validated.
 * @param source who sent it, for the message.
 * @throws {ConfigError} E_CONFIG_VALUE naming each bad key and the likely cause.
 */
export function parseJobDescription(value: unknown, source = 'the job the coordinator sent'): JobDescription {
  const facts = factsSchema.safeParse(value);
  if (!facts.success) {
    const problems = facts.error.issues.map((i) => `${i.path.join('.') || 'value'}: ${i.message}`).join('; ');
    throw new ConfigError('E_CONFIG_VALUE', `${source} is not a job description (${problems}); help: run the same dptrain version in every process of the job`);
  }
  const config = parseConfig(facts.data.config, source);
  const violations = clusterRuleViolations(config);
  if (violations.length > 0) throw new ConfigError('E_CONFIG_VALUE', `${source}: ${violations.join('; ')}`);
  return { config, inputShape: facts.data.inputShape, numClasses: facts.data.numClasses, trainCount: facts.data.trainCount };
}
