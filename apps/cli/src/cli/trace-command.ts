import { type Command, Option } from 'commander';
import { dryRun } from './role-options.js';

// `dptrain trace`: the timeline of a run recorded with --trace. Its modules load when it runs.

/** `--trace FILE` of coordinator, ps and worker. */
export const roleTraceOption = (): Option =>
  new Option('--trace <file>', "record this process's spans (lease, pull, compute, fold…) into a JSON-lines file; dptrain trace merge makes a timeline").env(
    'DPTRAIN_TRACE',
  );

/** `--trace DIR` of local: each process records into DIR/<its name>.trace.jsonl. */
export const localTraceOption = (): Option =>
  new Option(
    '--trace <dir>',
    "record every process's spans into DIR/<name>.trace.jsonl (coordinator, ps-0, worker-0…); dptrain trace merge DIR makes one timeline",
  );

export function registerTraceCommand(program: Command): void {
  const trace = program.command('trace').description('the timeline of a run recorded with --trace (dptrain trace merge DIR)');
  trace
    .command('merge')
    .description('merge the *.trace.jsonl files of a folder into one Chrome-trace JSON file for ui.perfetto.dev or chrome://tracing')
    .argument('<dir>', 'the folder of dptrain local --trace DIR, or one holding the --trace files of the roles')
    .addOption(new Option('--out <file>', 'the merged trace (default: <dir>/trace.json)'))
    .action(async (dir: string, options: { out?: string }, command: Command) => {
      if (dryRun(command, { options: { dir, ...options } })) return;
      const { mergeTraceFolder } = await import('../observe/trace-folder.js');
      const merged = await mergeTraceFolder(dir, options.out);
      const lines = [
        `wrote ${merged.out}: ${merged.processes.length} processes (${merged.processes.map((p) => p.name).join(', ')}), ${merged.events} events`,
        ...merged.processes
          .filter((p) => p.unfinished > 0)
          .map((p) => `  ${p.name}: ${p.unfinished} span(s) still open when it was stopped or killed, ended at its last event`),
        ...merged.truncated.map((at) => `  ${at}: a line cut short (its process was killed while writing it), left out`),
        `open it at https://ui.perfetto.dev (Open trace file) or in chrome://tracing (Load)`,
      ];
      process.stdout.write(`${lines.join('\n')}\n`);
    });
}
