import { OptimError, describe } from './optim-error.js';
import type { HyperParameterName, OptimizerConfig, OptimizerName, ResolvedConfig } from './types.js';
import { HYPER_PARAMETER_NAMES, OPTIMIZER_NAMES } from './types.js';

interface FieldRule {
  readonly accepts: (value: number) => boolean;
  readonly range: string;
  readonly hint: string;
}

const unitInterval = (value: number): boolean => value >= 0 && value < 1;

/** One range per field, shared by every optimizer that uses it. */
const FIELD_RULES: Readonly<Record<HyperParameterName, FieldRule>> = {
  lr: {
    accepts: (v) => Number.isFinite(v) && v >= 0,
    range: 'a finite number ≥ 0',
    hint: 'typical values are 1e-3 for adam, 1e-2 for sgd, 1 for adadelta and lbfgs',
  },
  momentum: {
    accepts: unitInterval,
    range: 'a number in [0, 1)',
    hint: 'γ weighs the previous displacement w(k) − w(k−1); the lecture suggests 0.9',
  },
  rho: {
    accepts: unitInterval,
    range: 'a number in [0, 1)',
    hint: 'the forgetting factor of the running averages; the lecture suggests about 0.9',
  },
  beta1: {
    accepts: unitInterval,
    range: 'a number in [0, 1)',
    hint: 'the forgetting factor of the first moment; the lecture recommends 0.9',
  },
  beta2: {
    accepts: unitInterval,
    range: 'a number in [0, 1)',
    hint: 'the forgetting factor of the second moment; the lecture recommends 0.999',
  },
  eps: {
    accepts: (v) => Number.isFinite(v) && v > 0,
    range: 'a finite number > 0',
    hint: 'ε only keeps divisions finite; 1e-8 (adam, adagrad) or 1e-6 (adadelta)',
  },
  weightDecay: {
    accepts: (v) => Number.isFinite(v) && v >= 0,
    range: 'a finite number ≥ 0',
    hint: 'λ shrinks w by α·λ·w each step; 0.01 is the usual AdamW value, 0 turns it off',
  },
  history: {
    accepts: (v) => Number.isInteger(v) && v >= 1 && v <= 1000,
    range: 'an integer in [1, 1000]',
    hint: 'L-BFGS keeps this many (s, y) pairs, each two vectors of the parameter count; 5 to 20 is usual',
  },
};

/**
 * Throws unless `value` is a number in the range of hyper-parameter `field`.
 * @param owner who is asking (an optimizer name, or `step` for a per-step learning rate).
 */
export function checkHyperParameter(owner: string, field: HyperParameterName, value: unknown): number {
  const rule = FIELD_RULES[field];
  if (typeof value !== 'number' || !rule.accepts(value)) {
    throw new OptimError('E_OPTIM_HYPERPARAMETER', field, value, `${owner}: ${field} must be ${rule.range}, got ${describe(value)}. help: ${rule.hint}.`);
  }
  return value;
}

/**
 * Resolves `config` over `defaults` (which lists every field the optimizer uses) and validates it.
 * @throws {OptimError} E_OPTIM_NAME, E_OPTIM_FIELD or E_OPTIM_HYPERPARAMETER naming the field.
 */
export function resolveConfig<H extends { readonly lr: number }>(config: OptimizerConfig, defaults: H): ResolvedConfig & H {
  const name = config.name;
  const used = Object.keys(defaults) as HyperParameterName[];
  const resolved: Record<string, unknown> = { name };
  for (const [key, value] of Object.entries(config)) {
    if (key === 'name' || value === undefined) continue;
    if (!(HYPER_PARAMETER_NAMES as readonly string[]).includes(key)) {
      throw new OptimError(
        'E_OPTIM_FIELD',
        key,
        value,
        `${name}: unknown hyper-parameter ${describe(key)}. help: the fields are ${HYPER_PARAMETER_NAMES.join(', ')}; ${name} uses ${used.join(', ')}.`,
      );
    }
    if (!(used as string[]).includes(key)) {
      throw new OptimError(
        'E_OPTIM_FIELD',
        key,
        value,
        `${name}: ${key} = ${describe(value)} has no effect on ${name}. help: remove it; ${name} uses ${used.join(', ')}${suggestFor(key as HyperParameterName)}.`,
      );
    }
  }
  for (const field of used) {
    const given = config[field];
    resolved[field] = checkHyperParameter(name, field, given === undefined ? defaults[field as keyof H] : given);
  }
  return resolved as unknown as ResolvedConfig & H;
}

/** Throws unless `name` is an optimizer this library builds. */
export function checkOptimizerName(name: unknown): OptimizerName {
  if (typeof name !== 'string' || !(OPTIMIZER_NAMES as readonly string[]).includes(name)) {
    throw new OptimError('E_OPTIM_NAME', 'name', name, `unknown optimizer ${describe(name)}. help: config.name must be one of ${OPTIMIZER_NAMES.join(', ')}.`);
  }
  return name as OptimizerName;
}

/** Points a misplaced field to the optimizers that do use it. */
function suggestFor(field: HyperParameterName): string {
  const owners: Partial<Record<HyperParameterName, string>> = {
    momentum: 'momentum, nesterov or rmsprop',
    rho: 'adadelta or rmsprop',
    beta1: 'adam or adamw',
    beta2: 'adam or adamw',
    eps: 'adagrad, adadelta, rmsprop, adam or adamw',
    weightDecay: 'adamw (decoupled decay)',
    history: 'lbfgs',
  };
  const who = owners[field];
  return who === undefined ? '' : `; ${field} belongs to ${who}`;
}
