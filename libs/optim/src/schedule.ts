import { checkHyperParameter } from './hyper-parameters.js';
import { OptimError, describe } from './optim-error.js';

/**
 * The learning rate of step t, where t counts the steps already taken (0 for the first step, i.e.
 * `optimizer.steps` before the call): `optimizer.step(params, grads, schedule(optimizer.steps))`.
 * @throws {OptimError} E_OPTIM_HYPERPARAMETER if t is not an integer ≥ 0.
 */
export type LearningRateSchedule = (t: number) => number;

export const SCHEDULE_KINDS = ['constant', 'step', 'cosine'] as const;
export type ScheduleKind = (typeof SCHEDULE_KINDS)[number];

/** lr(t) = lr. */
export function constantSchedule(lr: number): LearningRateSchedule {
  checkHyperParameter('constantSchedule', 'lr', lr);
  return (t) => (checkStep(t), lr);
}

/**
 * Step decay: lr(t) = lr · gamma^⌊t / stepSize⌋.
 * @param gamma factor per stage, in (0, 1]. @default 0.1
 */
export function stepSchedule(lr: number, stepSize: number, gamma = 0.1): LearningRateSchedule {
  checkHyperParameter('stepSchedule', 'lr', lr);
  checkInteger('stepSchedule', 'stepSize', stepSize, 1);
  if (!(gamma > 0 && gamma <= 1)) throw rangeError('stepSchedule', 'gamma', gamma, 'a number in (0, 1]', 'gamma multiplies lr at every stage; 0.1 is usual');
  return (t) => lr * gamma ** Math.floor(checkStep(t) / stepSize);
}

/**
 * Cosine annealing (Loshchilov & Hutter, 2017) without restarts:
 * lr(t) = minLr + ½(lr − minLr)(1 + cos(π·min(t, T)/T)), T = totalSteps; minLr from step T on.
 * @param minLr the floor, in [0, lr]. @default 0
 */
export function cosineSchedule(lr: number, totalSteps: number, minLr = 0): LearningRateSchedule {
  checkHyperParameter('cosineSchedule', 'lr', lr);
  checkInteger('cosineSchedule', 'totalSteps', totalSteps, 1);
  if (!(minLr >= 0 && minLr <= lr))
    throw rangeError('cosineSchedule', 'minLr', minLr, `a number in [0, lr = ${lr}]`, 'minLr is where the cosine ends; 0 is usual');
  return (t) => minLr + 0.5 * (lr - minLr) * (1 + Math.cos((Math.PI * Math.min(checkStep(t), totalSteps)) / totalSteps));
}

/**
 * Linear warm-up in front of `schedule`: lr(t) = schedule(0)·(t + 1)/(W + 1) for t < W, then
 * schedule(t − W), so the rate climbs from near 0 to schedule(0) in W equal increments and the
 * wrapped schedule starts at its own step 0. Goyal et al. (2017) pair it with the linear scaling
 * rule (`linearScaledLr`): large global batches need a large lr that is unsafe at the first steps.
 * @param warmupSteps W ≥ 0; 0 returns `schedule` itself.
 */
export function withWarmup(schedule: LearningRateSchedule, warmupSteps: number): LearningRateSchedule {
  checkInteger('withWarmup', 'warmupSteps', warmupSteps, 0);
  if (warmupSteps === 0) return schedule;
  const peak = schedule(0);
  return (t) => (checkStep(t) < warmupSteps ? (peak * (t + 1)) / (warmupSteps + 1) : schedule(t - warmupSteps));
}

/**
 * The linear scaling rule (Goyal et al., 2017): when the global batch is k times the batch a
 * learning rate was tuned for, multiply the rate by k. lr · batchSize / referenceBatchSize.
 */
export function linearScaledLr(lr: number, batchSize: number, referenceBatchSize: number): number {
  checkHyperParameter('linearScaledLr', 'lr', lr);
  checkInteger('linearScaledLr', 'batchSize', batchSize, 1);
  checkInteger('linearScaledLr', 'referenceBatchSize', referenceBatchSize, 1);
  return (lr * batchSize) / referenceBatchSize;
}

export interface ScheduleConfig {
  /** Base learning rate (the optimizer's `config.lr`). */
  readonly lr: number;
  /** @default 'constant' */
  readonly kind?: ScheduleKind;
  /** Linear warm-up steps in front. @default 0 */
  readonly warmupSteps?: number;
  /** Steps of the whole run, warm-up included; needed by `cosine`, which ends at the last step. */
  readonly totalSteps?: number;
  /** `step`: steps per stage. */
  readonly stepSize?: number;
  /** `step`: factor per stage. @default 0.1 */
  readonly gamma?: number;
  /** `cosine`: final rate. @default 0 */
  readonly minLr?: number;
}

/**
 * Builds a schedule from config values (the job's `schedule`, `warmupSteps`, `lr`); the cosine
 * spans the steps after warm-up so that it reaches minLr at `totalSteps`.
 */
export function createSchedule(config: ScheduleConfig): LearningRateSchedule {
  const { lr, kind = 'constant', warmupSteps = 0 } = config;
  let schedule: LearningRateSchedule;
  switch (kind) {
    case 'constant':
      schedule = constantSchedule(lr);
      break;
    case 'step':
      if (config.stepSize === undefined)
        throw rangeError('createSchedule', 'stepSize', undefined, 'an integer ≥ 1', 'the step schedule needs the number of steps per stage');
      schedule = stepSchedule(lr, config.stepSize, config.gamma);
      break;
    case 'cosine': {
      const total = config.totalSteps;
      if (total === undefined || !Number.isInteger(total) || total <= warmupSteps) {
        throw rangeError(
          'createSchedule',
          'totalSteps',
          total,
          `an integer > warmupSteps (${warmupSteps})`,
          'the cosine needs the length of the run to end at its last step',
        );
      }
      schedule = cosineSchedule(lr, total - warmupSteps, config.minLr);
      break;
    }
    default:
      throw rangeError('createSchedule', 'kind', kind, `one of ${SCHEDULE_KINDS.join(', ')}`, 'pick a known schedule');
  }
  return withWarmup(schedule, warmupSteps);
}

function checkStep(t: number): number {
  return checkInteger('schedule', 't', t, 0);
}

function checkInteger(owner: string, field: string, value: unknown, min: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min) {
    throw rangeError(
      owner,
      field,
      value,
      `an integer ≥ ${min}`,
      field === 't' ? 't counts the steps already taken, from 0' : `${field} counts optimizer steps (or samples for batch sizes)`,
    );
  }
  return value;
}

function rangeError(owner: string, field: string, value: unknown, range: string, hint: string): OptimError {
  return new OptimError('E_OPTIM_HYPERPARAMETER', field, value, `${owner}: ${field} must be ${range}, got ${describe(value)}. help: ${hint}.`);
}
