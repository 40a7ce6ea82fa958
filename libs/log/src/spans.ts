/**
 * Timed spans: what a role does, with when it began and ended. One instrumentation feeds every
 * sink (the Prometheus histograms of `/metrics`, the `--trace` timeline), so a histogram and a
 * trace can never disagree about what was measured. Off by default: `noSpans` costs one call.
 */

/** The spans the roles record; histograms and trace tracks are named after them. */
export const SPAN_NAMES = [
  // worker
  'lease', // one lease, from its arrival to the last push acknowledged
  'pull', // waiting for the parameters of a step (or, async, of a micro-batch)
  'compute', // one micro-batch's forward and backward pass
  'push', // waiting for the shards' verdicts on a lease's pushes, after the last compute
  // shard
  'fold', // folding one push (or pushed run) into the step's sum, or applying it (async)
  'update', // the optimizer's update of the shard's slice at the end of a step
  'walAppend', // appending a record to the write-ahead log
  'checkpoint', // writing a checkpoint
  'reply', // answering a pull (the parameters sent)
  // coordinator
  'step', // a step, from its first lease to every shard having applied it
] as const;
export type SpanName = (typeof SPAN_NAMES)[number];

/** Instant events: a point on the timeline, no duration. */
export const INSTANT_NAMES = ['leaseIssued', 'stepApplied', 'fault'] as const;
export type InstantName = (typeof INSTANT_NAMES)[number];

/** What identifies a span: step, micro-batch ids, worker, shard… (scalars only, for every sink). */
export type SpanArgs = Readonly<Record<string, string | number | boolean>>;

/** Ends a span; `args` are added to the ones it began with. */
export type EndSpan = (args?: SpanArgs) => void;

export interface Spans {
  /** Starts a span now. */
  begin(name: SpanName, args?: SpanArgs): EndSpan;
  /** Marks a moment. */
  instant(name: InstantName, args?: SpanArgs): void;
}

const endNothing: EndSpan = () => undefined;

export const noSpans: Spans = {
  begin: () => endNothing,
  instant: () => undefined,
};

/** Every sink sees every span (none: `noSpans`; one: that sink itself). */
export function fanOut(...sinks: readonly Spans[]): Spans {
  if (sinks.length === 0) return noSpans;
  if (sinks.length === 1) return sinks[0];
  return {
    begin(name, args) {
      const ends = sinks.map((sink) => sink.begin(name, args));
      return (endArgs) => {
        for (const end of ends) end(endArgs);
      };
    },
    instant(name, args) {
      for (const sink of sinks) sink.instant(name, args);
    },
  };
}
