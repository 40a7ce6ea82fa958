import { describe, expect, it } from 'vitest';
import { logSumExp, softmax, softmaxJacobian } from './softmax.js';

describe('softmax (lecture §4)', () => {
  it('reproduces the lecture example: softmax([1, 2, 3]) ≈ [0.09, 0.24, 0.67]', () => {
    const s = softmax([1, 2, 3]);
    // e^{x − 3} = [e^−2, e^−1, 1] = [0.135335, 0.367879, 1], sum 1.503215
    // → [0.0900306, 0.2447285, 0.6652410]; the lecture rounds to two decimals.
    expect(s[0]).toBeCloseTo(0.0900306, 6);
    expect(s[1]).toBeCloseTo(0.2447285, 6);
    expect(s[2]).toBeCloseTo(0.665241, 6);
    expect([...s].map((v) => Math.round(v * 100) / 100)).toEqual([0.09, 0.24, 0.67]);
  });

  it('stays finite for logits of magnitude 1e4 thanks to ln C = −max x', () => {
    // Without the shift e^{10000} = Infinity and the result would be NaN.
    // Shifted: e^{[0, −1, −20000]} = [1, 0.367879, 0] → [0.731059, 0.268941, 0].
    const s = softmax([1e4, 1e4 - 1, -1e4]);
    expect(s[0]).toBeCloseTo(0.7310586, 6);
    expect(s[1]).toBeCloseTo(0.2689414, 6);
    expect(s[2]).toBe(0);
    expect(logSumExp([1e4, 1e4 - 1, -1e4])).toBeCloseTo(1e4 + Math.log(1 + Math.exp(-1)), 9);
  });
});

describe('softmaxJacobian', () => {
  it('equals S_i(δ_ij − S_j) by hand for [1, 2, 3]', () => {
    const [s0, s1, s2] = [0.0900306, 0.2447285, 0.665241];
    const d = softmaxJacobian([1, 2, 3]);
    // Diagonal S_i(1 − S_i), off-diagonal −S_i S_j.
    expect(d[0][0]).toBeCloseTo(s0 * (1 - s0), 6); // 0.0819251
    expect(d[1][1]).toBeCloseTo(s1 * (1 - s1), 6); // 0.1848365
    expect(d[0][2]).toBeCloseTo(-s0 * s2, 6); // −0.0598920
    expect(d[2][1]).toBeCloseTo(-s2 * s1, 6); // −0.1628034
  });

  it('matches a central-difference Jacobian', () => {
    const x = [0.3, -1.2, 2.5, 0.7];
    const h = 1e-6;
    const d = softmaxJacobian(x);
    for (let j = 0; j < x.length; j++) {
      const up = softmax(x.map((v, k) => (k === j ? v + h : v)));
      const down = softmax(x.map((v, k) => (k === j ? v - h : v)));
      for (let i = 0; i < x.length; i++) {
        // Column j of D is ∂S/∂x_j.
        expect(d[i][j]).toBeCloseTo((up[i] - down[i]) / (2 * h), 8);
      }
    }
  });

  it('has rows summing to zero (softmax is invariant to adding a constant to x)', () => {
    for (const row of softmaxJacobian([5, -3, 0.5, 2])) {
      expect(row.reduce((a, b) => a + b, 0)).toBeCloseTo(0, 15);
    }
  });
});
