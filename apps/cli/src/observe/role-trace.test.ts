import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import type { TraceEvent } from './trace-events.js';

const ROLE_TRACE = fileURLToPath(new URL('./role-trace.ts', import.meta.url));
const LOGGER = fileURLToPath(new URL('../logger.ts', import.meta.url));

/**
 * A process that starts a trace, ends one span, leaves another open and says so on stdout; then
 * `stop` ends it: SIGTERM, or its own process.exit as a failed command does.
 */
async function traced(path: string, stop: 'SIGTERM' | 'exit'): Promise<{ signal: NodeJS.Signals | null; code: number | null; stderr: string }> {
  const script = `
    import { startRoleTrace } from ${JSON.stringify(ROLE_TRACE)};
    import { createLogger } from ${JSON.stringify(LOGGER)};
    const trace = await startRoleTrace(${JSON.stringify(path)}, 'worker-3', createLogger('worker'));
    trace.spans.begin('compute', { step: 1, microBatchId: 2 })();
    trace.spans.begin('lease', { step: 1 });
    process.stdin.on('data', () => process.exit(4));
    process.stdout.write('recorded\\n');
  `;
  const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
    stdio: ['pipe', 'pipe', 'pipe'],
    env: { ...process.env, DPTRAIN_LOG_FORMAT: 'json', DPTRAIN_LOG_LEVEL: 'info' },
  });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  await new Promise<void>((resolve) => child.stdout.on('data', (chunk: Buffer) => chunk.toString().includes('recorded') && resolve()));
  if (stop === 'SIGTERM') child.kill('SIGTERM');
  else child.stdin.write('exit\n');
  return new Promise((resolve) => child.on('exit', (code, signal) => resolve({ code, signal, stderr })));
}

const eventsOf = (path: string): TraceEvent[] =>
  readFileSync(path, 'utf8')
    .trimEnd()
    .split('\n')
    .map((l) => JSON.parse(l) as TraceEvent);

describe('startRoleTrace', () => {
  const dir = mkdtempSync(join(tmpdir(), 'role-trace-'));

  it('writes what was recorded on SIGTERM, and the signal still ends the process', async () => {
    const path = join(dir, 'term.trace.jsonl');
    const ended = await traced(path, 'SIGTERM');
    expect(ended.signal).toBe('SIGTERM');
    const events = eventsOf(path);
    expect(events.filter((e) => e.ph !== 'M').map((e) => `${e.ph} ${e.name}`)).toEqual(['B compute', 'E compute', 'B lease']);
    expect(events.find((e) => e.name === 'process_name')?.args?.name).toBe('worker-3');
    // The one log line that says where the trace goes.
    expect(ended.stderr.split('\n').filter((l) => l.includes(path))).toHaveLength(1);
  });

  it('writes what was recorded when the process exits through process.exit', async () => {
    const path = join(dir, 'exit.trace.jsonl');
    const ended = await traced(path, 'exit');
    expect(ended.code).toBe(4);
    expect(eventsOf(path).filter((e) => e.ph !== 'M').length).toBe(3);
  });
});
