import { describe, expect, it } from 'vitest';
import { runLabels } from './run-labels.js';

describe('runLabels', () => {
  it("is each run folder's name when the names differ", () => {
    expect(runLabels(['/w/runs/lr-0.01', '/w/runs/lr-0.1'])).toEqual(['lr-0.01', 'lr-0.1']);
  });

  it('is the shortest path tail that tells runs of the same name apart', () => {
    expect(runLabels(['/w/a/run', '/w/b/run', '/w/c/other'])).toEqual(['a/run', 'b/run', 'other']);
    expect(runLabels(['/x/a/run', '/y/a/run'])).toEqual(['x/a/run', 'y/a/run']);
  });
});
