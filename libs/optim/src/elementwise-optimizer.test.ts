import { afterEach, describe, expect, it, vi } from 'vitest';
import { createOptimizer } from './create-optimizer.js';
import { OptimError } from './optim-error.js';
import { bits, seededRandom, ELEMENTWISE_CONFIGS } from './test-support.js';
import type { Optimizer } from './types.js';

const CONFIGS = ELEMENTWISE_CONFIGS;
const cases = CONFIGS.map((config) => [JSON.stringify(config), config] as const);

/** ∇ of Σ ½(w_i − c_i)² + a step-dependent wobble, taken at `point`, into `out`. */
function gradient(point: Float32Array, t: number, offset: number, out: Float32Array): void {
  for (let i = 0; i < out.length; i++) out[i] = point[i] - Math.cos(offset + i) + 0.3 * Math.sin(0.7 * t + offset + i);
}

/**
 * `steps` training steps keeping params and grads in the optimizer's buffers (zero-copy) or in
 * arrays of the caller's (copied in and out); `offset` is the position of this slice in the
 * whole vector. Returns the final parameters.
 */
function train(opt: Optimizer, start: Float32Array, steps: number, zeroCopy: boolean, offset = 0): Float32Array {
  const { params, grads, point } = zeroCopy
    ? opt.buffers
    : { params: new Float32Array(opt.size), grads: new Float32Array(opt.size), point: new Float32Array(opt.size) };
  params.set(start);
  for (let t = 0; t < steps; t++) {
    gradient(opt.lookahead(params, point) ? point : params, t, offset, grads);
    opt.step(params, grads);
  }
  return params.slice();
}

const rng = seededRandom(21);
const START = Float32Array.from({ length: 11 }, () => 2 * rng() - 1);

describe('buffers: params, grads and point in the optimizer’s memory', () => {
  afterEach(() => vi.restoreAllMocks());

  it.each(cases)('%s: stepping on the buffers and on the caller’s arrays gives the same bits', (_label, config) => {
    const zeroCopy = train(createOptimizer(config, 11), START, 20, true);
    const copied = train(createOptimizer(config, 11), START, 20, false);
    expect(bits(zeroCopy)).toEqual(bits(copied));
    expect(bits(zeroCopy)).not.toEqual(bits(START));
  });

  it.each(cases)('%s: a shard gets the bits of the whole vector (slices [0, 5) and [5, 11), not multiples of 4)', (_label, config) => {
    const whole = train(createOptimizer(config, 11), START, 20, true);
    const left = train(createOptimizer(config, 5), START.subarray(0, 5), 20, true, 0);
    const right = train(createOptimizer(config, 6), START.subarray(5), 20, true, 5);
    expect(bits(Float32Array.from([...left, ...right]))).toEqual(bits(whole));
  });

  it('copies nothing when given its own buffers, and stages other arrays through them', () => {
    const opt = createOptimizer({ name: 'nesterov' }, 8);
    const { params, grads, point } = opt.buffers;
    const set = vi.spyOn(Float32Array.prototype, 'set');
    opt.lookahead(params, point);
    opt.step(params, grads);
    expect(set).toHaveBeenCalledTimes(0);
    const mine = new Float32Array(8).fill(1);
    opt.lookahead(mine, new Float32Array(8)); // params in, point out
    expect(set).toHaveBeenCalledTimes(2);
    opt.step(mine, new Float32Array(8).fill(0.5)); // params in, grads in, params out
    expect(set).toHaveBeenCalledTimes(5);
    // the staging left the caller's values in the buffers: they are the optimizer's scratch then
    expect(bits(params)).toEqual(bits(mine));
  });

  it('has a separate point only where the gradient is taken elsewhere than at params', () => {
    const sgd = createOptimizer({ name: 'sgd' }, 4).buffers;
    expect(sgd.point).toBe(sgd.params);
    expect(sgd.grads).not.toBe(sgd.params);
    const nesterov = createOptimizer({ name: 'nesterov' }, 4).buffers;
    expect(nesterov.point).not.toBe(nesterov.params);
    // one memory for all of them, each region its own
    expect(nesterov.point.buffer).toBe(nesterov.params.buffer);
    expect(new Set([nesterov.params, nesterov.grads, nesterov.point].map((b) => b.byteOffset)).size).toBe(3);
    const lbfgs = createOptimizer({ name: 'lbfgs' }, 4).buffers;
    expect([lbfgs.params.length, lbfgs.grads.length, lbfgs.point === lbfgs.params]).toEqual([4, 4, true]);
  });

  it('keeps the same live views through steps, state() and load() (the memory never grows)', () => {
    const opt = createOptimizer({ name: 'adam', lr: 0.1 }, 6);
    const { params, grads } = opt.buffers;
    params.fill(1);
    grads.fill(1);
    opt.step(params, grads);
    const saved = opt.state();
    opt.step(params, grads);
    opt.load(saved);
    expect(opt.buffers.params).toBe(params);
    expect(params.length).toBe(6);
    // step 1 with m̂ = g, v̂ = g²: w = 1 − 0.1·1/(1 + 1e-8), then step 2 moved it again
    expect(params[0]).toBeLessThan(0.9);
    // a snapshot is a copy, not a view of the memory
    expect(saved.slots['m'].buffer).not.toBe(params.buffer);
  });

  it('refuses a size whose buffers exceed one WebAssembly memory, naming the largest shard that fits', () => {
    let error: unknown;
    try {
      createOptimizer({ name: 'adam' }, 300_000_000);
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(OptimError);
    expect(error).toMatchObject({ code: 'E_OPTIM_SIZE', field: 'size', value: 300_000_000 });
    // params, grads, m, v: 4 × 4 bytes × 3e8 = 4.47 GiB; 4 GiB / 16 bytes = 268,435,456 parameters
    expect((error as OptimError).message).toBe(
      'adam: size 300000000 needs 4 vectors of 300,000,000 float32 (params, grads, m, v), 4.47 GiB, more than the 4 GiB one WebAssembly memory can hold. help: split the parameters over more parameter-server shards (--ps-shards) so that each holds at most 268,435,456 of them.',
    );
  });
});
