import { describe, expect, it } from 'vitest';
import { parseFlags, type FlagSpec } from './args.js';

const SPECS = {
  steps: { kind: 'int', help: 'timed steps' },
  warmup: { kind: 'int', help: 'warm-up steps', default: 5 },
  models: { kind: 'list', help: 'models', default: ['mlp', 'cnn'], choices: ['mlp', 'cnn', 'resnet'] },
  quick: { kind: 'boolean', help: 'fewer rows', default: false },
} satisfies Record<string, FlagSpec>;

describe('parseFlags', () => {
  it('fills in defaults and leaves an int without default undefined', () => {
    expect(parseFlags([], SPECS)).toEqual({ steps: undefined, warmup: 5, models: ['mlp', 'cnn'], quick: false });
  });

  it('reads --name value, --name=value, lists and booleans', () => {
    expect(parseFlags(['--steps', '20', '--warmup=2', '--models', 'cnn, resnet', '--quick'], SPECS)).toEqual({
      steps: 20,
      warmup: 2,
      models: ['cnn', 'resnet'],
      quick: true,
    });
  });

  it('names the flag, the value and the fix for a bad value', () => {
    expect(() => parseFlags(['--steps', '0'], SPECS)).toThrow('--steps 0 is not a positive integer; pass e.g. --steps 10');
    expect(() => parseFlags(['--warmup', '2.5'], SPECS)).toThrow('--warmup 2.5 is not a positive integer; pass e.g. --warmup 5');
    expect(() => parseFlags(['--models', 'mlp,vgg'], SPECS)).toThrow('--models mlp,vgg: "vgg" is not accepted; use a comma-separated list of mlp, cnn, resnet');
  });

  it('lists the known flags when one is unknown', () => {
    expect(() => parseFlags(['--step', '3'], SPECS)).toThrow(
      /Unknown option '--step'.*known flags:\n {2}--steps VALUE {2}timed steps\n {2}--warmup VALUE {2}warm-up steps; default 5\n/,
    );
  });
});
