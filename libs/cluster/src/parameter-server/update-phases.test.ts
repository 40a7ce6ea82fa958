import { describe, expect, it } from 'vitest';
import { TransitionError } from '../state-machine.js';
import { advance, UpdatePhase } from './update-phases.js';

const { Folded, Admitted, Logged, Applied, Served, Reported, Restored, Skipped, Refused } = UpdatePhase;

/** Walks `phases` from Folded; returns the phase reached. */
function walk(...phases: UpdatePhase[]): UpdatePhase {
  return phases.reduce((from, to) => advance(from, to), Folded);
}

describe('update phases', () => {
  it.each([
    ['sync, logged after serving', [Admitted, Applied, Served, Logged, Reported]],
    ['sync with clipping, logged first', [Admitted, Logged, Applied, Served, Reported]],
    ['async, logged first and reported without serving', [Admitted, Logged, Applied, Reported]],
    ['replayed from the log', [Admitted, Applied, Restored]],
    ['a pair already applied', [Skipped]],
    ['a mean that is not finite', [Refused]],
    ['parameters that diverged after the log append', [Admitted, Logged, Refused]],
  ])('%s is a legal walk', (_, phases) => {
    expect(walk(...phases)).toBe(phases.at(-1));
  });

  it.each([
    [Folded, Applied],
    [Folded, Served],
    [Admitted, Served],
    [Applied, Logged],
    [Served, Applied],
    [Reported, Served],
    [Restored, Reported],
    [Skipped, Admitted],
    [Refused, Applied],
  ])('refuses %s → %s', (from, to) => {
    expect(() => advance(from, to)).toThrow(TransitionError);
  });

  it('names both phases and the legal targets in the error', () => {
    expect(() => advance(Applied, Logged)).toThrow('illegal update transition applied → logged (legal from applied: served, reported, restored)');
    expect(() => advance(Reported, Served)).toThrow('(legal from reported: none)');
  });
});
