import { describe, expect, it } from 'vitest';
import { createOptimizer } from './create-optimizer.js';
import { minimizeLbfgs } from './lbfgs-minimize.js';
import { expectClose, seededRandom } from './test-support.js';

/** J(w) = ½(w_0² + 2·w_1²), ∇J(w) = [w_0, 2·w_1]. */
function quadraticGradient(w: Float32Array): Float32Array {
  return Float32Array.of(w[0], 2 * w[1]);
}

/**
 * ℓ2-regularised logistic regression on seeded data: J(w) = mean log(1 + exp(−y·xᵀw)) + (λ/2)‖w‖².
 * Feature j is scaled by 1/(1 + j) so the problem is ill-conditioned, as real features often are.
 */
function logisticRegression(samples: number, features: number, lambda: number, seed: number) {
  const rng = seededRandom(seed);
  const normal = () => Math.sqrt(-2 * Math.log(1 - rng())) * Math.cos(2 * Math.PI * rng());
  const truth = Array.from({ length: features }, normal);
  const x = new Float64Array(samples * features);
  const y = new Float64Array(samples);
  for (let n = 0; n < samples; n++) {
    let margin = 0;
    for (let j = 0; j < features; j++) {
      const v = normal() / (1 + j);
      x[n * features + j] = v;
      margin += v * truth[j] * (1 + j);
    }
    y[n] = margin + 0.5 * normal() > 0 ? 1 : -1;
  }
  const lossAndGradient = (w: Float32Array, grads: Float32Array): number => {
    let loss = 0;
    const g = new Float64Array(features);
    for (let n = 0; n < samples; n++) {
      let z = 0;
      for (let j = 0; j < features; j++) z += x[n * features + j] * w[j];
      const m = y[n] * z;
      loss += m > 0 ? Math.log1p(Math.exp(-m)) : -m + Math.log1p(Math.exp(m));
      const coef = -y[n] / (1 + Math.exp(m));
      for (let j = 0; j < features; j++) g[j] += coef * x[n * features + j];
    }
    let reg = 0;
    for (let j = 0; j < features; j++) {
      grads[j] = g[j] / samples + lambda * w[j];
      reg += w[j] * w[j];
    }
    return loss / samples + 0.5 * lambda * reg;
  };
  // L = λ_max(XᵀX)/(4N) + λ bounds the Hessian; 1/L is the step gradient descent is guaranteed with.
  let v = new Float64Array(features).fill(1);
  let lambdaMax = 0;
  for (let it = 0; it < 200; it++) {
    const xv = new Float64Array(samples);
    for (let n = 0; n < samples; n++) for (let j = 0; j < features; j++) xv[n] += x[n * features + j] * v[j];
    const next = new Float64Array(features);
    for (let n = 0; n < samples; n++) for (let j = 0; j < features; j++) next[j] += x[n * features + j] * xv[n];
    lambdaMax = Math.hypot(...next);
    v = next.map((e) => e / lambdaMax);
  }
  return { lossAndGradient, lipschitz: lambdaMax / (4 * samples) + lambda };
}

/**
 * The seeded ℓ2-regularised logistic regression (400 samples, 20 features) and the loss full-batch
 * gradient descent (step 1/L) reaches on it after 500 iterations: the bar L-BFGS must clear.
 */
function problemAndGdTarget(): { lossAndGradient: (w: Float32Array, g: Float32Array) => number; target: number } {
  const { lossAndGradient, lipschitz } = logisticRegression(400, 20, 1e-3, 42);
  const grads = new Float32Array(20);
  const gd = createOptimizer({ name: 'sgd', lr: 1 / lipschitz }, 20);
  const wGd = new Float32Array(20);
  for (let k = 0; k < 500; k++) {
    lossAndGradient(wGd, grads);
    gd.step(wGd, grads);
  }
  return { lossAndGradient, target: lossAndGradient(wGd, grads) };
}

describe('lbfgs', () => {
  it('takes a scaled gradient step, then two-loop quasi-Newton steps (three steps by hand)', () => {
    const opt = createOptimizer({ name: 'lbfgs', lr: 1, history: 5 }, 2);
    const w = Float32Array.of(0.6, 0.2);
    const iterates: number[][] = [];
    for (let k = 0; k < 3; k++) {
      opt.step(w, quadraticGradient(w));
      iterates.push(Array.from(w));
    }
    // Step 1, no pairs: g0 = [0.6, 0.4], ‖g0‖ = 0.72 ≤ 1 so d = g0; w1 = [0, −0.2].
    expectClose(iterates[0], [0, -0.2]);
    // Step 2: g1 = [0, −0.4]; s = [−0.6, −0.4], y = [−0.6, −0.8]; sᵀy = 0.68, yᵀy = 1, ρ = 1/0.68.
    //   q = g1; α = ρ·sᵀq = 0.16/0.68 = 4/17; q −= α·y → [2.4/17, −3.6/17];
    //   r = (sᵀy/yᵀy)·q = 0.68·q = [0.096, −0.144]; β = ρ·yᵀr = 0.0576/0.68 = 1.44/17;
    //   r += s·(α − β) = s·2.56/17 → r = [0.096/17, −3.472/17] = [12/2125, −434/2125];
    //   w2 = w1 − r = [−12/2125, 9/2125].
    expectClose(iterates[1], [-12 / 2125, 9 / 2125], { rel: 1e-5 });
    // Step 3 (pairs 1 and 2; s2 = [−12, 434]/2125, y2 = [−12, 868]/2125, sᵀy = 1304/15625):
    //   α2 = 117/5542, α1 = 234/47107, γ = s2ᵀy2/y2ᵀy2 = 47107/94196,
    //   β1 = −450/400333, β2 = −809859375/361639214218, giving
    //   w3 = [−1802456250, −24918750]/3073933320853 = [−5.86368038e−4, −8.10647057e−6].
    expectClose(iterates[2], [-1802456250 / 3073933320853, -24918750 / 3073933320853], { rel: 1e-4 });
  });

  it('scales the first step to length ≤ α and skips pairs without curvature', () => {
    const opt = createOptimizer({ name: 'lbfgs', lr: 0.5 }, 2);
    const w = Float32Array.of(0, 0);
    // ‖[3, 4]‖ = 5 > 1: w1 = −0.5·[3, 4]/5 = [−0.3, −0.4]
    opt.step(w, Float32Array.of(3, 4));
    expectClose(w, [-0.3, -0.4]);
    // The same gradient again: y = 0, so sᵀy = 0 and the pair is skipped; the step stays scaled
    // steepest descent: w2 = w1 − 0.5·[3, 4]/5 = [−0.6, −0.8].
    opt.step(w, Float32Array.of(3, 4));
    expectClose(w, [-0.6, -0.8]);
    expect(opt.state().scalars).toEqual({ pairs: 0, newest: 9 });
  });

  it('reaches in at most 100 steps the loss gradient descent reaches in 500 (logistic regression)', () => {
    const { lossAndGradient, target } = problemAndGdTarget();
    const grads = new Float32Array(20);
    const start = lossAndGradient(new Float32Array(20), grads);

    const lbfgs = createOptimizer({ name: 'lbfgs' }, 20);
    const w = new Float32Array(20);
    let reachedAt = -1;
    for (let k = 1; k <= 100 && reachedAt < 0; k++) {
      lossAndGradient(w, grads);
      lbfgs.step(w, grads);
      if (lossAndGradient(w, grads) <= target) reachedAt = k;
    }
    expect(start - target).toBeGreaterThan(0.1); // gradient descent did make progress
    expect(reachedAt).toBeGreaterThan(0);
    expect(reachedAt).toBeLessThanOrEqual(100);
  });

  it('minimizeLbfgs with its line search gets there too, evaluating J once or a few times per step', () => {
    const { lossAndGradient, target } = problemAndGdTarget();
    const grads = new Float32Array(20);
    const w = new Float32Array(20);
    const result = minimizeLbfgs(lossAndGradient, w, { maxIterations: 100 });
    expect(result.reason).toBe('gradient-tolerance');
    expect(result.iterations).toBeLessThanOrEqual(100);
    expect(result.loss).toBeLessThanOrEqual(target);
    expect(lossAndGradient(w, grads)).toBe(result.loss); // params end at the returned point
    expect(result.evaluations).toBeLessThan(2 * result.iterations + 1);
  });
});
