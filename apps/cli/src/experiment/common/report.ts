import { mkdir, writeFile } from 'node:fs/promises';
import { availableParallelism, cpus, loadavg } from 'node:os';
import { join } from 'node:path';

/** Where and under what load an experiment ran: throughput depends on it. */
export interface Machine {
  readonly cores: number;
  readonly cpu: string;
  readonly node: string;
  readonly startedAt: string;
  readonly finishedAt?: string;
  /** os.loadavg() (1, 5, 15 minutes) when the experiment started and when it finished. */
  readonly loadAtStart: readonly number[];
  readonly loadAtEnd?: readonly number[];
}

export function machineNow(): Machine {
  return {
    cores: availableParallelism(),
    cpu: cpus()[0]?.model ?? 'unknown',
    node: process.version,
    startedAt: new Date().toISOString(),
    loadAtStart: loadavg().map((l) => Math.round(l * 100) / 100),
  };
}

export function finish(machine: Machine): Machine {
  return { ...machine, finishedAt: new Date().toISOString(), loadAtEnd: loadavg().map((l) => Math.round(l * 100) / 100) };
}

/** The command line that started this process, as typed (arguments with spaces quoted). */
export function invocation(argv: readonly string[] = process.argv): string {
  return ['dptrain', ...argv.slice(2)].map((a) => (/^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`)).join(' ');
}

/** The report's closing section: command, machine and load, resolved configuration. */
export function provenance(command: string, machine: Machine, config: Record<string, unknown>): string {
  return [
    '## How this was produced',
    '',
    '```sh',
    command,
    '```',
    '',
    `Machine: ${machine.cores} cores (${machine.cpu}), Node ${machine.node}; ${machine.startedAt} to ${machine.finishedAt ?? '?'}.`,
    `Load average (1, 5, 15 min) at the start: ${machine.loadAtStart.join(', ')}; at the end: ${machine.loadAtEnd?.join(', ') ?? '?'}. ` +
      'The machine was shared with other jobs: throughput and times were taken under that load.',
    '',
    "Resolved job configuration (the keys every run shares; each run's own summary.json has its full config):",
    '',
    '```json',
    JSON.stringify(config, null, 2),
    '```',
    '',
  ].join('\n');
}

/** Writes each named file into `out` (created if missing). */
export async function writeFiles(out: string, files: Record<string, string>): Promise<void> {
  await mkdir(out, { recursive: true });
  for (const [name, content] of Object.entries(files)) await writeFile(join(out, name), content);
}
