import { describe, expect, it } from 'vitest';
import { createOptimizer } from './create-optimizer.js';
import type { Optimizer, OptimizerConfig } from './types.js';
import { bits, seededRandom, ELEMENTWISE_CONFIGS } from './test-support.js';

const SIZE = 257;
const rng = seededRandom(3);
const A = Float32Array.from({ length: SIZE }, () => 0.5 + rng());
const C = Float32Array.from({ length: SIZE }, () => 2 * rng() - 1);

/**
 * ∇ of Σ ½a_i(w_i − c_i)² plus a step-dependent wobble (absent for L-BFGS, which wants a
 * deterministic objective): the gradient depends on the point, so any state lost in a round trip
 * changes every later step.
 */
function gradientAt(point: Float32Array, t: number, noisy: boolean, out: Float32Array): void {
  for (let i = 0; i < SIZE; i++) out[i] = A[i] * (point[i] - C[i]) + (noisy ? 0.3 * Math.sin(0.7 * t + i) : 0);
}

/** Steps t = from … to−1, taking each gradient where `lookahead` says. */
function run(opt: Optimizer, params: Float32Array, from: number, to: number): void {
  const point = new Float32Array(SIZE);
  const grads = new Float32Array(SIZE);
  for (let t = from; t < to; t++) {
    gradientAt(opt.lookahead(params, point) ? point : params, t, opt.name !== 'lbfgs', grads);
    opt.step(params, grads);
  }
}

const CONFIGS: OptimizerConfig[] = [
  ...ELEMENTWISE_CONFIGS,
  // α = 0.2 so it is still moving at step 100 (α = 1 solves this quadratic to the last bit in < 50).
  { name: 'lbfgs', history: 4, lr: 0.2 },
];

describe('checkpoint round trip', () => {
  it.each(CONFIGS.map((config) => [JSON.stringify(config), config] as const))(
    '%s: 50 steps, state(), load() into a fresh optimizer, 50 more = 100 uninterrupted, bit for bit',
    (_label, config) => {
      const start = Float32Array.from({ length: SIZE }, () => 2 * rng() - 1);

      const straight = createOptimizer(config, SIZE);
      const w = start.slice();
      run(straight, w, 0, 50);
      // A structured clone is what a checkpoint writer and reader see: plain data, no methods.
      const saved = structuredClone(straight.state());
      const wSaved = w.slice();
      // L-BFGS's ring is full by then, so the resumed run must also get its wrap-around right.
      if (config.name === 'lbfgs') expect(saved.scalars['pairs']).toBe(4);
      run(straight, w, 50, 100); // the snapshot must not follow these steps

      const resumed = createOptimizer(config, SIZE);
      resumed.load(saved);
      expect(resumed.steps).toBe(50);
      const wResumed = wSaved.slice();
      run(resumed, wResumed, 50, 100);

      expect(bits(wResumed)).toEqual(bits(w));
      expect(w.every(Number.isFinite)).toBe(true);
      expect(resumed.state()).toEqual(straight.state());
      // and the run went somewhere: the last 50 steps changed the parameters
      expect(bits(w)).not.toEqual(bits(wSaved));
    },
  );

  it('names slots and scalars stably, in a fixed order', () => {
    const names = (config: OptimizerConfig) => {
      const state = createOptimizer(config, 3).state();
      return [...Object.keys(state.slots), ...Object.keys(state.scalars).map((s) => `#${s}`)];
    };
    expect(names({ name: 'sgd' })).toEqual([]);
    expect(names({ name: 'momentum' })).toEqual(['delta']);
    expect(names({ name: 'nesterov' })).toEqual(['delta']);
    expect(names({ name: 'adagrad' })).toEqual(['gradSquareSum']);
    expect(names({ name: 'adadelta' })).toEqual(['gradSquareAvg', 'deltaSquareAvg']);
    expect(names({ name: 'rmsprop' })).toEqual(['gradSquareAvg']);
    expect(names({ name: 'rmsprop', momentum: 0.9 })).toEqual(['gradSquareAvg', 'delta']);
    expect(names({ name: 'adam' })).toEqual(['m', 'v']);
    expect(names({ name: 'adamw' })).toEqual(['m', 'v']);
    expect(names({ name: 'lbfgs', history: 2 })).toEqual(['s0', 's1', 'y0', 'y1', 'prevParams', 'prevGrads', '#pairs', '#newest']);
    const state = createOptimizer({ name: 'adam' }, 3).state();
    expect(state).toMatchObject({ format: 1, name: 'adam', size: 3, step: 0 });
  });
});
