import { describe, expect, it } from 'vitest';
import { createOptimizer } from './create-optimizer.js';
import { expectClose } from './test-support.js';

describe('nesterov', () => {
  it('takes the gradient at w(k) + γ[w(k) − w(k−1)] and applies it at w(k), three steps', () => {
    // J(w) = ½(1·w_0² + 2·w_1²), so ∇J(p) = [p_0, 2·p_1].
    const opt = createOptimizer({ name: 'nesterov', lr: 0.1, momentum: 0.5 }, 2);
    const w = Float32Array.of(1, -2);
    const point = new Float32Array(2);
    const points: number[][] = [];
    const iterates: number[][] = [];
    for (let k = 0; k < 3; k++) {
      expect(opt.lookahead(w, point)).toBe(true);
      points.push(Array.from(point));
      opt.step(w, Float32Array.of(point[0], 2 * point[1]));
      iterates.push(Array.from(w));
    }
    // k = 0: w(0) − w(−1) = 0, p0 = w0 = [1, −2]; g = [1, −4]; d1 = −0.1·g = [−0.1, 0.4]; w1 = [0.9, −1.6]
    expectClose(points[0], [1, -2]);
    expectClose(iterates[0], [0.9, -1.6]);
    // k = 1: p1 = w1 + 0.5·d1 = [0.85, −1.4]; g = [0.85, −2.8];
    //        d2 = 0.5·[−0.1, 0.4] − 0.1·[0.85, −2.8] = [−0.135, 0.48]; w2 = [0.765, −1.12]
    expectClose(points[1], [0.85, -1.4]);
    expectClose(iterates[1], [0.765, -1.12]);
    // k = 2: p2 = w2 + 0.5·d2 = [0.6975, −0.88]; g = [0.6975, −1.76];
    //        d3 = 0.5·[−0.135, 0.48] − 0.1·[0.6975, −1.76] = [−0.13725, 0.416]; w3 = [0.62775, −0.704]
    expectClose(points[2], [0.6975, -0.88]);
    expectClose(iterates[2], [0.62775, -0.704]);
  });
});
