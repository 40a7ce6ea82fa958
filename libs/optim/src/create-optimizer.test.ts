import { describe, expect, it } from 'vitest';
import { createOptimizer } from './create-optimizer.js';
import { OptimError } from './optim-error.js';
import type { OptimErrorCode } from './optim-error.js';
import type { OptimizerConfig } from './types.js';
import { OPTIMIZER_NAMES } from './types.js';

/** Runs `f`, expects an OptimError (a RangeError) and returns it. */
function caught(f: () => unknown): OptimError {
  try {
    f();
  } catch (error) {
    expect(error).toBeInstanceOf(RangeError);
    expect(error).toBeInstanceOf(OptimError);
    return error as OptimError;
  }
  return expect.fail('expected an OptimError');
}

function expectRefused(f: () => unknown, code: OptimErrorCode, field: string, shown: string): void {
  const error = caught(f);
  expect(error.code).toBe(code);
  expect(error.field).toBe(field);
  expect(error.message).toContain(field);
  expect(error.message).toContain(shown);
  expect(error.message).toMatch(/help: \S/);
}

describe('createOptimizer validation', () => {
  const bad: [OptimizerConfig, string, string][] = [
    [{ name: 'sgd', lr: -0.1 }, 'lr', 'got -0.1'],
    [{ name: 'adam', lr: Number.NaN }, 'lr', 'got NaN'],
    [{ name: 'sgd', lr: Number.POSITIVE_INFINITY }, 'lr', 'got Infinity'],
    [{ name: 'momentum', momentum: 1 }, 'momentum', 'got 1'],
    [{ name: 'nesterov', momentum: -0.5 }, 'momentum', 'got -0.5'],
    [{ name: 'rmsprop', momentum: 1.5 }, 'momentum', 'got 1.5'],
    [{ name: 'adadelta', rho: 1 }, 'rho', 'got 1'],
    [{ name: 'rmsprop', rho: -0.1 }, 'rho', 'got -0.1'],
    [{ name: 'adam', beta1: 1 }, 'beta1', 'got 1'],
    [{ name: 'adamw', beta2: 1.001 }, 'beta2', 'got 1.001'],
    [{ name: 'adagrad', eps: 0 }, 'eps', 'got 0'],
    [{ name: 'adam', eps: -1e-8 }, 'eps', 'got -1e-8'],
    [{ name: 'adamw', weightDecay: -0.01 }, 'weightDecay', 'got -0.01'],
    [{ name: 'lbfgs', history: 0 }, 'history', 'got 0'],
    [{ name: 'lbfgs', history: 2.5 }, 'history', 'got 2.5'],
    [{ name: 'adam', beta1: '0.9' as unknown as number }, 'beta1', 'got "0.9"'],
  ];
  it.each(bad)('%j is refused naming %s and its value', (config, field, shown) => {
    expectRefused(() => createOptimizer(config, 10), 'E_OPTIM_HYPERPARAMETER', field, shown);
  });

  it('refuses a field the chosen optimizer does not use, pointing to the ones that do', () => {
    const error = caught(() => createOptimizer({ name: 'adam', momentum: 0.9 }, 10));
    expect(error.code).toBe('E_OPTIM_FIELD');
    expect(error.message).toBe(
      'adam: momentum = 0.9 has no effect on adam. help: remove it; adam uses lr, beta1, beta2, eps; momentum belongs to momentum, nesterov or rmsprop.',
    );
    expectRefused(() => createOptimizer({ name: 'sgd', weightDecay: 0.1 }, 10), 'E_OPTIM_FIELD', 'weightDecay', '0.1');
  });

  it('refuses unknown fields (typos) and unknown names', () => {
    const typo = { name: 'adam', beta_1: 0.9 } as unknown as OptimizerConfig;
    expectRefused(() => createOptimizer(typo, 10), 'E_OPTIM_FIELD', 'beta_1', 'unknown hyper-parameter "beta_1"');
    const adamax = { name: 'adamax' } as unknown as OptimizerConfig;
    expectRefused(() => createOptimizer(adamax, 10), 'E_OPTIM_NAME', 'name', '"adamax"');
    expectRefused(() => createOptimizer(null as unknown as OptimizerConfig, 10), 'E_OPTIM_NAME', 'config', 'got null');
  });

  it('ignores fields set to undefined (flags that were not given)', () => {
    expect(createOptimizer({ name: 'sgd', momentum: undefined }, 1).config).toEqual({ name: 'sgd', lr: 0.01 });
  });

  it.each([0, -3, 2.5, Number.NaN])('refuses size %s', (size) => {
    expectRefused(() => createOptimizer({ name: 'adam' }, size), 'E_OPTIM_SIZE', 'size', `got ${size}`);
  });

  it('builds every listed optimizer with defaults', () => {
    for (const name of OPTIMIZER_NAMES) expect(createOptimizer({ name }, 4).name).toBe(name);
  });
});

describe('step only reads the gradient', () => {
  it.each(OPTIMIZER_NAMES)('%s leaves the bits of grads unchanged, given as its own buffer or as another array', (name) => {
    const size = 64;
    const gradient = Float32Array.from({ length: size }, (_, i) => Math.sin(i + 1) * (i % 7 === 0 ? -0 : 1.5));
    for (const own of [true, false]) {
      const opt = createOptimizer({ name }, size);
      opt.buffers.params.set(Float32Array.from({ length: size }, (_, i) => Math.cos(i)));
      for (let k = 0; k < 3; k++) {
        const grads = own ? opt.buffers.grads : new Float32Array(size);
        grads.set(gradient);
        opt.step(opt.buffers.params, grads, 0.1);
        expect(new Uint32Array(grads.buffer, grads.byteOffset, size)).toEqual(new Uint32Array(gradient.buffer));
      }
    }
  });
});

describe('step, lookahead and load validation', () => {
  it.each(OPTIMIZER_NAMES)('%s refuses arrays of the wrong length and a bad per-step lr', (name) => {
    const opt = createOptimizer({ name }, 4);
    const ok = new Float32Array(4);
    expectRefused(() => opt.step(new Float32Array(3), ok), 'E_OPTIM_LENGTH', 'params', 'got 3 elements');
    expectRefused(() => opt.step(ok, new Float32Array(5)), 'E_OPTIM_LENGTH', 'grads', 'got 5 elements');
    expectRefused(() => opt.step(ok, Array.from(ok) as unknown as Float32Array), 'E_OPTIM_LENGTH', 'grads', 'got Array(4)');
    expectRefused(() => opt.step(ok, ok, -1), 'E_OPTIM_HYPERPARAMETER', 'lr', 'got -1');
    expect(opt.steps).toBe(0); // nothing refused was counted
  });

  it('nesterov refuses a look-ahead buffer of the wrong length', () => {
    const opt = createOptimizer({ name: 'nesterov' }, 4);
    expectRefused(() => opt.lookahead(new Float32Array(4), new Float32Array(2)), 'E_OPTIM_LENGTH', 'out', 'got 2 elements');
  });

  it('load refuses a state of another optimizer, size, layout or damaged entries, and keeps its own', () => {
    const adam = createOptimizer({ name: 'adam' }, 4);
    const good = adam.state();
    const load = (state: unknown) => () => adam.load(state as typeof good);
    expectRefused(load(createOptimizer({ name: 'adamw' }, 4).state()), 'E_OPTIM_STATE', 'name', 'name is "adamw" in the state');
    expectRefused(load(createOptimizer({ name: 'adam' }, 5).state()), 'E_OPTIM_STATE', 'size', 'size is 5 in the state');
    expectRefused(load({ ...good, format: 2 }), 'E_OPTIM_STATE', 'format', 'got 2');
    expectRefused(load({ ...good, step: -1 }), 'E_OPTIM_STATE', 'step', 'got -1');
    expectRefused(load({ ...good, slots: { m: good.slots['m'] } }), 'E_OPTIM_STATE', 'slots.v', 'slots.v is missing');
    expectRefused(load({ ...good, slots: { ...good.slots, u: new Float32Array(4) } }), 'E_OPTIM_STATE', 'slots.u', 'slots.u is unexpected');
    expectRefused(load({ ...good, slots: { ...good.slots, v: new Float32Array(3) } }), 'E_OPTIM_STATE', 'slots.v', 'got Float32Array(3)');
    expectRefused(load({ ...good, slots: { ...good.slots, m: new Float64Array(4) } }), 'E_OPTIM_STATE', 'slots.m', 'got Float64Array(4)');
    expectRefused(load('{}'), 'E_OPTIM_STATE', 'state', 'got "{}"');

    const lbfgs = createOptimizer({ name: 'lbfgs', history: 3 }, 4);
    const s = lbfgs.state();
    expectRefused(() => lbfgs.load({ ...s, scalars: { ...s.scalars, pairs: 4 } }), 'E_OPTIM_STATE', 'scalars.pairs', 'got 4');
    expectRefused(() => lbfgs.load({ ...s, scalars: { pairs: 0 } }), 'E_OPTIM_STATE', 'scalars.newest', 'scalars.newest is missing');
    expectRefused(() => createOptimizer({ name: 'lbfgs', history: 2 }, 4).load(s), 'E_OPTIM_STATE', 'slots.s2', 'slots.s2 is unexpected');
    expect(adam.state()).toEqual(good);
  });
});
