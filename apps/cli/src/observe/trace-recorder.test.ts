import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { trackOf, type TraceEvent } from './trace-events.js';
import { TraceFile } from './trace-file.js';
import { TraceRecorder } from './trace-recorder.js';

/** A recorder on a counting clock whose batches land in `batches`. */
function rig(batchEvents = 10_000) {
  const batches: string[] = [];
  let now = 1_000;
  const recorder = new TraceRecorder({ append: (text) => void batches.push(text) }, { pid: 7, processName: 'worker-0', clock: () => now++, batchEvents });
  const events = (): TraceEvent[] => {
    recorder.flush();
    return batches
      .join('')
      .split('\n')
      .filter((l) => l !== '')
      .map((l) => JSON.parse(l) as TraceEvent);
  };
  return { recorder, batches, events };
}

const timed = (events: TraceEvent[]): string[] => events.filter((e) => e.ph !== 'M').map((e) => `${e.ph} ${e.name} ${e.tid}`);

describe('TraceRecorder', () => {
  it('puts a span that overlaps another of its name on the next lane, and reuses a lane once free', () => {
    const { recorder, events } = rig();
    const first = recorder.begin('compute', { step: 3, microBatchId: 0 });
    const second = recorder.begin('compute', { step: 3, microBatchId: 1 });
    first();
    const third = recorder.begin('compute', { step: 3, microBatchId: 2 });
    second({ accepted: 1 });
    third();
    const [lane0, lane1] = [trackOf('compute', 0), trackOf('compute', 1)];
    const all = events();
    expect(timed(all)).toEqual([
      `B compute ${lane0}`,
      `B compute ${lane1}`,
      `E compute ${lane0}`,
      `B compute ${lane0}`,
      `E compute ${lane1}`,
      `E compute ${lane0}`,
    ]);
    expect(all.find((e) => e.ph === 'B' && e.tid === lane1)?.args).toEqual({ step: 3, microBatchId: 1 });
    expect(all.find((e) => e.ph === 'E' && e.tid === lane1)?.args).toEqual({ accepted: 1 });
    const names = all.filter((e) => e.name === 'thread_name').map((e) => [e.tid, e.args?.name]);
    expect(names).toEqual([
      [lane0, 'compute'],
      [lane1, 'compute 2'],
    ]);
    expect(all.filter((e) => e.name === 'process_name').map((e) => e.args?.name)).toEqual(['worker-0']);
  });

  it('gives each name its own track, instants included, and ends a span once however often its end is called', () => {
    const { recorder, events } = rig();
    const lease = recorder.begin('lease', { step: 0 });
    const pull = recorder.begin('pull', { step: 0 });
    pull();
    pull();
    recorder.instant('leaseIssued', { step: 0, leaseId: 4 });
    lease();
    const all = events().filter((e) => e.ph !== 'M');
    expect(all.map((e) => `${e.ph} ${e.name}`)).toEqual(['B lease', 'B pull', 'E pull', 'i leaseIssued', 'E lease']);
    expect(new Set(all.map((e) => e.tid)).size).toBe(3);
    expect(all.every((e) => e.pid === 7)).toBe(true);
    // Time never goes backwards within the process's events.
    expect(all.map((e) => e.ts)).toEqual([...all.map((e) => e.ts)].sort((a, b) => a - b));
  });

  it('hands its events over in batches, after the call that filled one, never inside begin or end', async () => {
    const { recorder, batches, events } = rig(4);
    for (let i = 0; i < 3; i++) recorder.begin('fold', { step: i })();
    expect(batches).toEqual([]);
    await new Promise((resolve) => setImmediate(resolve));
    expect(batches.length).toBe(1);
    expect(events().filter((e) => e.ph !== 'M').length).toBe(6);
    recorder.stop();
  });
});

describe('TraceFile', () => {
  const dir = mkdtempSync(join(tmpdir(), 'trace-file-'));

  it('writes every batch once and in order, including the one under way when flushSync runs', async () => {
    const path = join(dir, 'flush.trace.jsonl');
    const file = await TraceFile.open(path, (error) => {
      throw error;
    });
    file.append('a\n');
    file.append('b\n');
    file.flushSync();
    expect(readFileSync(path, 'utf8')).toBe('a\nb\n');
    file.append('c\n');
    await file.close();
    expect(readFileSync(path, 'utf8')).toBe('a\nb\nc\n');
  });

  it('continues an existing file, ending a line a killed process left half written', async () => {
    const path = join(dir, 'continued.trace.jsonl');
    writeFileSync(path, '{"whole":1}\n{"cut');
    const file = await TraceFile.open(path, (error) => {
      throw error;
    });
    file.append('{"next":2}\n');
    await file.close();
    expect(readFileSync(path, 'utf8')).toBe('{"whole":1}\n{"cut\n{"next":2}\n');
  });

  it('refuses a path it cannot write, naming it and the fix', async () => {
    const blocker = join(dir, 'a-file');
    writeFileSync(blocker, '');
    await expect(TraceFile.open(join(blocker, 'x.trace.jsonl'), () => undefined)).rejects.toThrow(
      new RegExp(
        `cannot write the trace to ${blocker}/x.trace.jsonl \\(E[A-Z]+: a part of the path is a file, not a directory\\); give --trace a file in a directory`,
      ),
    );
  });

  it('records through a recorder: the file holds every event once stopped and closed', async () => {
    const path = join(dir, 'recorded.trace.jsonl');
    const file = await TraceFile.open(path, (error) => {
      throw error;
    });
    const recorder = new TraceRecorder(file, { pid: 11, processName: 'ps-0', batchEvents: 3 });
    for (let step = 0; step < 20; step++) recorder.begin('update', { step, version: step + 1 })();
    recorder.stop();
    await file.close();
    const events = readFileSync(path, 'utf8')
      .trimEnd()
      .split('\n')
      .map((l) => JSON.parse(l) as TraceEvent);
    expect(events.filter((e) => e.ph === 'B').map((e) => e.args?.step)).toEqual(Array.from({ length: 20 }, (_, i) => i));
    expect(events.filter((e) => e.ph === 'E').length).toBe(20);
  });
});
