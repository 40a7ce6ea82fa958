import { describe, expect, it } from 'vitest';
import { niceTicks } from './chart.js';
import { percentTick } from './format.js';

describe('percentTick', () => {
  it('labels each tick of a narrow accuracy range apart (86.2%, 86.4%, … not 86%, 86%, …)', () => {
    const labels = niceTicks(0.8605, 0.8712, 5).map(percentTick);
    expect(new Set(labels).size).toBe(labels.length);
    expect(labels).toEqual(['86.2%', '86.4%', '86.6%', '86.8%', '87%']);
  });

  it('keeps whole percentages whole', () => {
    expect(niceTicks(0, 1, 5).map(percentTick)).toEqual(['0%', '20%', '40%', '60%', '80%', '100%']);
  });
});
