import { describe, expect, it } from 'vitest';
import { eventParser } from './sse.js';

/** The events of `chunks` fed one after the other. */
function events(chunks: readonly string[]): [string, string][] {
  const seen: [string, string][] = [];
  const feed = eventParser((type, data) => seen.push([type, data]));
  for (const chunk of chunks) feed(chunk);
  return seen;
}

describe('the page’s event-stream parser', () => {
  const stream = 'event: job\ndata: {"a":1}\n\n: a comment\nevent: step\ndata: {"step":2}\n\ndata: line one\ndata: line two\n\n';
  const expected = [
    ['job', '{"a":1}'],
    ['step', '{"step":2}'],
    ['message', 'line one\nline two'],
  ];

  it('reads events, comments and multi-line data', () => {
    expect(events([stream])).toEqual(expected);
  });

  it('gives the same events however the stream is cut into chunks', () => {
    for (let size = 1; size <= 7; size++) {
      const chunks = Array.from({ length: Math.ceil(stream.length / size) }, (_, i) => stream.slice(i * size, (i + 1) * size));
      expect(events(chunks), `chunks of ${size}`).toEqual(expected);
    }
  });

  it('takes CRLF line ends, and waits for the blank line before it passes an event on', () => {
    expect(events(['event: end\r\ndata: {}\r\n'])).toEqual([]);
    expect(events(['event: end\r\ndata: {}\r\n\r\n'])).toEqual([['end', '{}']]);
  });
});
