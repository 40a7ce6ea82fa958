// Server-Sent Events read with fetch(), which (unlike EventSource) can send the Authorization header.

/**
 * A parser of an event stream's text, fed in chunks as they arrive (a chunk may end anywhere):
 * calls `onEvent(type, data)` for each event, `data` being its data lines joined by "\n".
 * Lines end with "\n" (a "\r" before it is dropped); ":" lines are comments.
 * @param {(type: string, data: string) => void} onEvent
 * @returns {(chunk: string) => void}
 */
export function eventParser(onEvent) {
  let buffer = '';
  let type = '';
  /** @type {string[]} */
  let data = [];
  return (chunk) => {
    buffer += chunk;
    let end;
    while ((end = buffer.indexOf('\n')) >= 0) {
      const line = buffer.slice(0, end).replace(/\r$/, '');
      buffer = buffer.slice(end + 1);
      if (line === '') {
        if (data.length > 0) onEvent(type || 'message', data.join('\n'));
        type = '';
        data = [];
        continue;
      }
      if (line.startsWith(':')) continue;
      const colon = line.indexOf(':');
      const field = colon < 0 ? line : line.slice(0, colon);
      const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
      if (field === 'event') type = value;
      if (field === 'data') data.push(value);
    }
  };
}

/**
 * Reads the event stream of `response` to its end, calling `onEvent` with each event's type and
 * parsed JSON data.
 * @param {Response} response
 * @param {(type: string, data: unknown) => void} onEvent
 * @returns {Promise<void>}
 */
export async function readEvents(response, onEvent) {
  if (!response.body) throw new Error('the response has no body to read');
  const reader = response.body.getReader();
  const decoder = new TextDecoder();
  const parse = eventParser((type, data) => onEvent(type, JSON.parse(data)));
  for (;;) {
    const { done, value } = await reader.read();
    if (done) return;
    parse(decoder.decode(value, { stream: true }));
  }
}
