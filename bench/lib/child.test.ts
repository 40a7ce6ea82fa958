import { describe, expect, it } from 'vitest';
import { RESULT_MARKER, runChild } from './child.js';

/** Runs a JavaScript snippet in a child Node process. */
const node = (code: string, timeoutMs?: number) => runChild<unknown>(process.execPath, ['-e', code], timeoutMs === undefined ? {} : { timeoutMs });

describe('runChild', () => {
  it('returns the value of the last result line, ignoring other output', async () => {
    const code = `console.log('banner'); console.log(${JSON.stringify(RESULT_MARKER)} + JSON.stringify({ ok: true, value: { n: 1 } })); console.log('trailing');`;
    expect(await node(code)).toEqual({ ok: true, value: { n: 1 } });
  });

  it('passes on a reported failure', async () => {
    const code = `console.log(${JSON.stringify(RESULT_MARKER)} + JSON.stringify({ ok: false, reason: 'no kernel' })); process.exit(1);`;
    expect(await node(code)).toEqual({ ok: false, reason: 'no kernel' });
  });

  it('gives the exit code and the last stderr line when the child reports nothing', async () => {
    expect(await node(`console.error('first'); console.error('out of memory\\n'); process.exit(3);`)).toEqual({
      ok: false,
      reason: 'exited with code 3 without a result: out of memory',
    });
  });

  it('kills a child that outlives the timeout', async () => {
    expect(await node('setInterval(() => {}, 1000);', 300)).toEqual({ ok: false, reason: 'timed out after 0.3 s without a result' });
  });

  it('reports a command that cannot start', async () => {
    const outcome = await runChild('/nonexistent/python3', []);
    expect(outcome.ok).toBe(false);
    expect(outcome.ok ? '' : outcome.reason).toMatch(/^cannot start \/nonexistent\/python3: spawn \/nonexistent\/python3 ENOENT/);
  });
});
