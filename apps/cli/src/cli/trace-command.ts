import { type Command, Option } from 'commander';
import { dryRun } from './role-options.js';

// `dptrain trace`: the timeline of a run recorded with --trace. Its modules load when it runs.

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
        ...merged.processes.filter((p) => p.unfinished > 0).map((p) => `  ${p.name}: ${p.unfinished} span(s) never ended (killed?), ended at its last event`),
        ...merged.truncated.map((at) => `  ${at}: a line cut short (its process was killed while writing it), left out`),
        `open it at https://ui.perfetto.dev (Open trace file) or in chrome://tracing (Load)`,
      ];
      process.stdout.write(`${lines.join('\n')}\n`);
    });
}
