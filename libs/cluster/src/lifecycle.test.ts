import { describe, expect, it } from 'vitest';
import { JobState, LeaseState, transition, TransitionError, WorkerState } from './lifecycle.js';

describe('transition', () => {
  it('gives back the target of a legal move', () => {
    expect(transition('worker', WorkerState.Dead, WorkerState.Idle)).toBe(WorkerState.Idle);
    expect(transition('lease', LeaseState.Revoked, LeaseState.Done)).toBe(LeaseState.Done);
    expect(transition('job', JobState.Recovering, JobState.Training)).toBe(JobState.Training);
  });

  it('refuses a move its table does not list, naming both states, the legal targets and the owner', () => {
    expect(() => transition('worker', WorkerState.Quarantined, WorkerState.Idle)).toThrow(TransitionError);
    expect(() => transition('lease', LeaseState.Done, LeaseState.Active)).toThrow(
      "illegal lease transition done → active (legal from done: none); this is a bug in the coordinator's scheduling",
    );
    expect(() => transition('job', JobState.Waiting, JobState.Done)).toThrow('(legal from waiting: training, failed)');
  });
});
