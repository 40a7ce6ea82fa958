import { describe, expect, it } from 'vitest';
import { fanOut, noSpans, type SpanArgs, type Spans } from './spans.js';

function recorder(seen: string[]): Spans {
  return {
    begin: (name, args) => {
      seen.push(`begin ${name} ${JSON.stringify(args ?? {})}`);
      return (end?: SpanArgs) => seen.push(`end ${name} ${JSON.stringify(end ?? {})}`);
    },
    instant: (name, args) => seen.push(`instant ${name} ${JSON.stringify(args ?? {})}`),
  };
}

describe('fanOut', () => {
  it('gives every sink each begin, end and instant, in order', () => {
    const a: string[] = [];
    const b: string[] = [];
    const spans = fanOut(recorder(a), recorder(b));
    const end = spans.begin('compute', { step: 3 });
    spans.instant('stepApplied', { step: 3 });
    end({ loss: 0.5 });
    const expected = ['begin compute {"step":3}', 'instant stepApplied {"step":3}', 'end compute {"loss":0.5}'];
    expect(a).toEqual(expected);
    expect(b).toEqual(expected);
  });

  it('is noSpans without sinks and the sink itself with one', () => {
    const only = recorder([]);
    expect(fanOut()).toBe(noSpans);
    expect(fanOut(only)).toBe(only);
  });
});
