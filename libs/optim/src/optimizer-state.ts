import { OptimError, describe } from './optim-error.js';
import type { OptimizerName, OptimizerState } from './types.js';

/** What `load()` expects: the writer's identity and the exact slots and scalars it must find. */
export interface StateLayout {
  readonly name: OptimizerName;
  readonly size: number;
  /** Slot name → length, in the stable order. */
  readonly slots: readonly (readonly [name: string, length: number])[];
  /** Scalar name → largest allowed value (each is an integer ≥ 0). */
  readonly scalars: readonly (readonly [name: string, max: number])[];
}

/** A snapshot with fresh copies of `slots` in layout order. */
export function snapshot(
  name: OptimizerName,
  size: number,
  step: number,
  slots: readonly (readonly [string, Float32Array])[],
  scalars: readonly (readonly [string, number])[] = [],
): OptimizerState {
  const slotCopies: Record<string, Float32Array> = {};
  for (const [slot, array] of slots) slotCopies[slot] = array.slice();
  return { format: 1, name, size, step, slots: slotCopies, scalars: Object.fromEntries(scalars) };
}

/**
 * Checks `state` against `layout` before anything is copied, so a refused state leaves the
 * optimizer as it was. Extra slots or scalars are refused too: they mean the writer was configured
 * differently (e.g. rmsprop with momentum), and dropping them would silently change the run.
 * @returns the step count stored in the state.
 * @throws {OptimError} E_OPTIM_STATE naming the first entry that does not fit.
 */
export function checkState(layout: StateLayout, state: unknown): number {
  const owner = `${layout.name}.load`;
  const fail = (field: string, value: unknown, problem: string, help: string): never => {
    throw new OptimError('E_OPTIM_STATE', field, value, `${owner}: ${problem}. help: ${help}.`);
  };
  if (typeof state !== 'object' || state === null) {
    return fail('state', state, `state must be an object from state(), got ${describe(state)}`, 'pass what state() returned');
  }
  const s = state as Partial<OptimizerState>;
  if (s.format !== 1) {
    fail('format', s.format, `format must be 1, got ${describe(s.format)}`, 'this state was written by an incompatible version');
  }
  if (s.name !== layout.name) {
    fail(
      'name',
      s.name,
      `name is ${describe(s.name)} in the state, but this optimizer is ${layout.name}`,
      `create the optimizer with name ${describe(s.name)} to resume it`,
    );
  }
  if (s.size !== layout.size) {
    fail(
      'size',
      s.size,
      `size is ${describe(s.size)} in the state, but this optimizer has ${layout.size} parameters`,
      'resume with the same model (and the same shard boundaries)',
    );
  }
  const step = s.step;
  if (typeof step !== 'number' || !Number.isInteger(step) || step < 0) {
    fail('step', step, `step must be an integer ≥ 0, got ${describe(step)}`, 'the state is damaged; resume from another checkpoint');
  }
  checkEntries(
    'slots',
    s.slots,
    layout.slots.map(([n]) => n),
    fail,
  );
  for (const [slot, length] of layout.slots) {
    const array = s.slots![slot];
    if (!(array instanceof Float32Array) || array.length !== length) {
      fail(
        `slots.${slot}`,
        array,
        `slots.${slot} must be a Float32Array of ${length} elements, got ${describe(array)}`,
        'resume with the same hyper-parameters (history, momentum) and parameter count',
      );
    }
  }
  checkEntries(
    'scalars',
    s.scalars,
    layout.scalars.map(([n]) => n),
    fail,
  );
  for (const [scalar, max] of layout.scalars) {
    const value = s.scalars![scalar];
    if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value > max) {
      fail(
        `scalars.${scalar}`,
        value,
        `scalars.${scalar} must be an integer in [0, ${max}], got ${describe(value)}`,
        'the state is damaged or was written with another history; resume with the same config',
      );
    }
  }
  return step as number;
}

function checkEntries(
  group: 'slots' | 'scalars',
  entries: unknown,
  expected: readonly string[],
  fail: (field: string, value: unknown, problem: string, help: string) => never,
): void {
  if (typeof entries !== 'object' || entries === null) {
    fail(group, entries, `${group} must be an object, got ${describe(entries)}`, 'pass what state() returned');
  }
  const present = Object.keys(entries as object);
  for (const name of expected) {
    if (!present.includes(name)) {
      fail(
        `${group}.${name}`,
        undefined,
        `${group}.${name} is missing (expected ${group}: ${expected.join(', ') || 'none'})`,
        'resume with the config the state was written with',
      );
    }
  }
  for (const name of present) {
    if (!expected.includes(name)) {
      fail(
        `${group}.${name}`,
        name,
        `${group}.${name} is unexpected (expected ${group}: ${expected.join(', ') || 'none'}), so the writer was configured differently`,
        'resume with the config the state was written with',
      );
    }
  }
}
