import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { alive, hasScript, TerminalRun } from './terminal.js';

// dptrain in a terminal, as a user runs it: progress bars, one line per epoch, the accuracy at
// the end, readable logs, and one Ctrl-C that stops everything.

const JOB = ['--dataset', 'synthetic', '--model', 'mlp', '--hidden', '32', '--batch-size', '32', '--micro-batch-size', '8', '--backend', 'cpu'];
const BAR = (label: string, epoch: string): RegExp =>
  new RegExp(`${label} epoch ${epoch} \\[[█░]+\\] \\d+/\\d+ \\| loss \\d+\\.\\d{4} \\| [\\d,]+ samples/s \\| eta \\d`);
// eslint-disable-next-line no-control-regex
const plain = (screen: string): string => screen.replace(/\u001b\[[0-9;?]*[A-Za-z]/g, '');

if (!hasScript) console.warn('skipping the terminal tests: util-linux `script` (a pseudo-terminal) is not installed; apt-get install bsdutils');

describe.skipIf(!hasScript)('dptrain in a terminal', () => {
  it('train shows a bar per epoch with a measured rate, a line per epoch, the final accuracy and readable logs', async () => {
    const out = join(mkdtempSync(join(tmpdir(), 'tty-train-')), 'run');
    const run = new TerminalRun(['train', ...JOB, '--epochs', '2', '--out', out]);
    expect(await run.exited).toBe(0);
    const screen = plain(run.screen);
    expect(screen).toMatch(BAR('train', '1/2'));
    expect(screen).toMatch(BAR('train', '2/2'));
    const accuracy = (JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8')) as { testAccuracy: number }).testAccuracy;
    const percent = `${(accuracy * 100).toFixed(2)}%`;
    expect(screen).toMatch(/epoch 1\/2: train loss \d+\.\d{4}, test accuracy [\d.]+% \(loss \d+\.\d{4}\), [\d.]+ s/);
    expect(screen).toContain(`epoch 2/2: train loss`);
    expect(screen).toMatch(new RegExp(`test accuracy ${percent.replace('.', '\\.')} \\(loss [\\d.]+\\) after [\\d,]+ steps in .*run folder ${out}`));
    // Logs are lines for people on a terminal, not JSON.
    expect(screen).toMatch(/INFO: training finished/);
    expect(screen).not.toContain('{"level":');
  });

  it('local stops the parent and every child with one Ctrl-C and exits 130', async () => {
    const out = join(mkdtempSync(join(tmpdir(), 'tty-local-')), 'run');
    const run = new TerminalRun(['local', ...JOB, '--steps', '100000', '--workers', '2', '--out', out]);
    // The bar moving means the whole cluster is up and training.
    await run.shows(BAR('local', '1/\\d+'));
    const pids = (JSON.parse(readFileSync(join(out, 'cluster.json'), 'utf8')) as { processes: { pid: number }[] }).processes.map((p) => p.pid);
    expect(pids).toHaveLength(4);
    expect(pids.filter(alive)).toEqual(pids);
    run.pressCtrlC();
    expect(await run.exited).toBe(130);
    expect(pids.filter(alive)).toEqual([]);
    expect(plain(run.screen)).toContain(`[E_INTERRUPTED] SIGINT: stopped every process of the cluster; the run folder ${out} keeps what was done`);
  });

  it('local shows the progress and the final accuracy', async () => {
    const out = join(mkdtempSync(join(tmpdir(), 'tty-local-')), 'run');
    const run = new TerminalRun(['local', ...JOB, '--epochs', '2', '--workers', '2', '--out', out]);
    expect(await run.exited).toBe(0);
    const screen = plain(run.screen);
    expect(screen).toMatch(BAR('local', '2/2'));
    expect(screen).toMatch(/epoch 2\/2: train loss \d+\.\d{4}, test accuracy/);
    const accuracy = (JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8')) as { testAccuracy: number }).testAccuracy;
    expect(screen).toContain(`test accuracy ${(accuracy * 100).toFixed(2)}%`);
  });
});
