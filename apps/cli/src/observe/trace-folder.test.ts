import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { TraceEvent } from './trace-events.js';
import { mergeTraceFolder, prepareTraceFolder } from './trace-folder.js';

const line = (event: Partial<TraceEvent>): string => `${JSON.stringify(event)}\n`;
const named = (pid: number, name: string): string => line({ name: 'process_name', ph: 'M', ts: 0, pid, tid: 0, args: { name } });

/** A folder holding the given files. */
function folder(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'trace-merge-'));
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  return dir;
}

async function merged(dir: string): Promise<TraceEvent[]> {
  const { out } = await mergeTraceFolder(dir);
  return (JSON.parse(readFileSync(out, 'utf8')) as { traceEvents: TraceEvent[] }).traceEvents;
}

describe('mergeTraceFolder', () => {
  it('puts every process on one axis from the earliest event, named by its metadata', async () => {
    const dir = folder({
      'coordinator.trace.jsonl': named(10, 'coordinator') + line({ name: 'leaseIssued', ph: 'i', s: 't', ts: 5_000, pid: 10, tid: 1200, args: { step: 0 } }),
      'worker-0.trace.jsonl':
        named(20, 'worker-0') +
        line({ name: 'lease', ph: 'B', ts: 5_100, pid: 20, tid: 100, args: { step: 0 } }) +
        line({ name: 'lease', ph: 'E', ts: 5_900, pid: 20, tid: 100 }),
      'notes.txt': 'not a trace',
    });
    const events = await merged(dir);
    expect(events.filter((e) => e.name === 'process_name').map((e) => [e.pid, e.args?.name])).toEqual([
      [10, 'coordinator'],
      [20, 'worker-0'],
    ]);
    expect(events.filter((e) => e.ph !== 'M').map((e) => [e.ph, e.pid, e.ts])).toEqual([
      ['i', 10, 0],
      ['B', 20, 100],
      ['E', 20, 900],
    ]);
  });

  it("ends the spans a killed process left open at that process's last event, marked unfinished", async () => {
    const dir = folder({
      'ps-0.trace.jsonl':
        named(30, 'ps-0') +
        line({ name: 'reply', ph: 'B', ts: 1_000, pid: 30, tid: 900 }) +
        line({ name: 'fold', ph: 'B', ts: 1_200, pid: 30, tid: 600 }) +
        line({ name: 'fold', ph: 'E', ts: 1_300, pid: 30, tid: 600 }) +
        line({ name: 'update', ph: 'B', ts: 1_400, pid: 30, tid: 700 }),
      'worker-0.trace.jsonl': named(31, 'worker-0') + line({ name: 'pull', ph: 'B', ts: 9_000, pid: 31, tid: 200 }),
    });
    const result = await mergeTraceFolder(dir);
    expect(result.processes.map((p) => [p.name, p.unfinished])).toEqual([
      ['ps-0', 2],
      ['worker-0', 1],
    ]);
    const events = await merged(dir);
    const ends = events.filter((e) => e.ph === 'E' && e.args?.unfinished === true).map((e) => [e.name, e.pid, e.ts]);
    expect(ends).toEqual([
      ['reply', 30, 400],
      ['update', 30, 400],
      ['pull', 31, 8_000],
    ]);
  });

  it('keeps a restarted process apart from its predecessor in the same file, and renumbers coinciding pids', async () => {
    const dir = folder({
      'ps-0.trace.jsonl':
        named(40, 'ps-0') +
        line({ name: 'fold', ph: 'B', ts: 10, pid: 40, tid: 600 }) +
        named(41, 'ps-0') +
        line({ name: 'fold', ph: 'B', ts: 50, pid: 41, tid: 600 }),
      'worker-0.trace.jsonl':
        named(40, 'worker-0') + line({ name: 'pull', ph: 'B', ts: 20, pid: 40, tid: 200 }) + line({ name: 'pull', ph: 'E', ts: 30, pid: 40, tid: 200 }),
    });
    const { processes } = await mergeTraceFolder(dir);
    expect(processes.map((p) => p.name)).toEqual(['ps-0', 'ps-0 (restart 1)', 'worker-0']);
    expect(new Set(processes.map((p) => p.pid)).size).toBe(3);
    const events = await merged(dir);
    const workerPid = processes[2].pid;
    expect(events.filter((e) => e.name === 'pull').every((e) => e.pid === workerPid)).toBe(true);
  });

  it('leaves out a last line cut short by a kill, and says so', async () => {
    const dir = folder({
      'worker-1.trace.jsonl': named(50, 'worker-1') + line({ name: 'pull', ph: 'B', ts: 1, pid: 50, tid: 200 }) + '{"name":"pull","ph":"E","t',
    });
    const result = await mergeTraceFolder(dir);
    expect(result.truncated).toEqual([`${join(dir, 'worker-1.trace.jsonl')}:3`]);
    expect(result.processes[0].unfinished).toBe(1);
  });

  it('names the file and the line of a line that is not a trace event', async () => {
    const bad = (text: string) =>
      folder({ 'coordinator.trace.jsonl': named(1, 'coordinator') + text + line({ name: 'step', ph: 'B', ts: 1, pid: 1, tid: 1000 }) });
    const at = (dir: string) => `${join(dir, 'coordinator.trace.jsonl')}:2`;
    const notJson = bad('{"name": oops}\n');
    await expect(mergeTraceFolder(notJson)).rejects.toThrow(`${at(notJson)}: not a JSON line ({"name": oops})`);
    const badPhase = bad(line({ name: 'step', ph: 'X' as 'B', ts: 1, pid: 1, tid: 1 }));
    await expect(mergeTraceFolder(badPhase)).rejects.toThrow(`${at(badPhase)}: ph "X" is not one of B, E, i, M`);
    const noTs = bad(line({ name: 'step', ph: 'B', pid: 1, tid: 1 }));
    await expect(mergeTraceFolder(noTs)).rejects.toThrow(`${at(noTs)}: ts undefined is not a number of microseconds`);
    const stray = bad(line({ name: 'step', ph: 'E', ts: 0, pid: 1, tid: 1000 }));
    await expect(mergeTraceFolder(stray)).rejects.toThrow(`${at(stray)}: the end of "step" on track 1000 of pid 1 ends no span begun there`);
  });

  it('refuses a folder without trace files, and one that does not exist, saying how to record one', async () => {
    const empty = folder({ 'trace.json': '{}' });
    await expect(mergeTraceFolder(empty)).rejects.toThrow(`${empty} holds no *.trace.jsonl file; record a run into it first: dptrain local --trace ${empty}`);
    const missing = join(empty, 'nowhere');
    await expect(mergeTraceFolder(missing)).rejects.toThrow(`cannot read the trace folder ${missing} (ENOENT)`);
    mkdirSync(join(empty, 'quiet'));
    writeFileSync(join(empty, 'quiet', 'worker-0.trace.jsonl'), named(3, 'worker-0'));
    await expect(mergeTraceFolder(join(empty, 'quiet'))).rejects.toThrow('hold no span or instant');
  });
});

describe('prepareTraceFolder', () => {
  const earlier = (): string => folder({ 'ps-0.trace.jsonl': named(1, 'ps-0'), 'trace.json': '{}', 'notes.txt': 'mine' });

  it("refuses a new run's traces in a folder holding an earlier run's, naming them and the fixes", async () => {
    const dir = earlier();
    await expect(prepareTraceFolder(dir, 'new')).rejects.toThrow(
      `--trace ${dir} already holds the traces of an earlier run (ps-0.trace.jsonl); give a new or empty folder, --force to delete them, or --resume`,
    );
    await prepareTraceFolder(dir, 'resume');
    expect(readdirSync(dir).sort()).toEqual(['notes.txt', 'ps-0.trace.jsonl', 'trace.json']);
  });

  it('with --force deletes the earlier traces and their merge, and the folder once empty', async () => {
    const dir = earlier();
    await prepareTraceFolder(dir, 'force');
    expect(readdirSync(dir)).toEqual(['notes.txt']);
    const only = folder({ 'worker-0.trace.jsonl': named(2, 'worker-0') });
    await prepareTraceFolder(only, 'force');
    expect(existsSync(only)).toBe(false);
    // A folder that does not exist yet is left for the first process to make.
    await prepareTraceFolder(join(only, 'new'), 'new');
    expect(existsSync(only)).toBe(false);
  });
});
