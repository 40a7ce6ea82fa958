import { mkdir, mkdtemp, readdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { claimRunFolder, isRunEntry } from './run-folder.js';

describe('claimRunFolder', () => {
  it('with force removes what a cluster run and its plots left, and keeps what the user put there', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'run-folder-'));
    const left = ['config.json', 'metrics.jsonl', 'metrics.prom', 'metrics-ps-0.prom', 'metrics-worker-1.prom', 'cluster.json', 'summary.json'];
    for (const name of [...left, 'notes.txt', 'metrics-mine.prom']) await writeFile(join(dir, name), '{}');
    await mkdir(join(dir, 'plots'));
    await mkdir(join(dir, 'checkpoints'));
    await expect(claimRunFolder(dir, 'new')).rejects.toThrow(/is not empty/);
    expect(await claimRunFolder(dir, 'force')).toBe('fresh');
    expect((await readdir(dir)).sort()).toEqual(['metrics-mine.prom', 'notes.txt']);
    expect(await claimRunFolder(dir, 'continue')).toBe('fresh');
  });

  it('names the metrics files of shards and workers as run entries, not any .prom', () => {
    expect(['metrics-ps-12.prom', 'metrics-worker-0.prom', 'plots'].every(isRunEntry)).toBe(true);
    expect(['metrics-ps-x.prom', 'worker-0.prom', 'notes.txt'].some(isRunEntry)).toBe(false);
  });
});
