import { join } from 'node:path';
import { noSpans, type Spans } from '@dptrain/log';
import { TraceFile } from '../../observe/trace-file.js';
import { TraceRecorder } from '../../observe/trace-recorder.js';

/** A simulated run's `--trace`: each modelled process's spans, and how to end the files. */
export interface SimulationTrace {
  /** The sink of process `name` (coordinator, worker-k); nothing for a process not traced. */
  spans(name: string): Spans;
  /** Writes what is left and closes the files. */
  close(): Promise<void>;
}

/**
 * Records a simulated run as `dptrain local --trace` records a real one: `<dir>/<name>.trace.jsonl`
 * for each of `names`, in the same events, so that `dptrain trace merge` and the same scripts read
 * both. Timestamps are the virtual clock's (performance.now() inside the simulation reads it), in
 * microseconds from the simulation's start. The recorders and their timers are made here, before
 * the simulation installs its clock, so that their flushes stay on the machine's clock.
 * @throws TraceFileError when a file cannot be opened
 */
export async function simulationTrace(dir: string, names: readonly string[]): Promise<SimulationTrace> {
  const files = await Promise.all(
    names.map((name) =>
      TraceFile.open(join(dir, `${name}.trace.jsonl`), (error) =>
        process.stderr.write(`simulate: cannot write the trace of ${name} in ${dir} (${error.message})\n`),
      ),
    ),
  );
  const clock = () => Math.round(performance.now() * 1000);
  const recorders = new Map(names.map((name, i) => [name, new TraceRecorder(files[i]!, { pid: i + 1, processName: name, clock })]));
  return {
    spans: (name) => recorders.get(name) ?? noSpans,
    async close() {
      for (const recorder of recorders.values()) recorder.stop();
      await Promise.all(files.map((file) => file.close()));
    },
  };
}
