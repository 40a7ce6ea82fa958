import type { Logger } from '../logger.js';
import { TraceFile } from './trace-file.js';
import { TraceRecorder } from './trace-recorder.js';

/** A role's `--trace`: the sink to give its `spans` option, and how to end it. */
export interface RoleTrace {
  readonly spans: TraceRecorder;
  /** Writes what is left and closes the file (at the end of the command). */
  close(): Promise<void>;
}

const SIGNALS = ['SIGINT', 'SIGTERM'] as const;

/**
 * Starts recording this process's spans into `path` (`--trace`, DPTRAIN_TRACE) as `processName`.
 * The file gets what was recorded however the process ends: `close()` at the end of the command,
 * a synchronous write on `exit` (a failed command exits through process.exit), and on SIGINT or
 * SIGTERM, after which the signal ends the process as it did without a trace, unless another
 * handler of that signal is there to stop it its own way.
 * @throws TraceFileError when the file cannot be opened
 */
export async function startRoleTrace(path: string, processName: string, logger: Logger): Promise<RoleTrace> {
  const file = await TraceFile.open(path, (error) =>
    logger.warn({ trace: path, err: error.message }, `cannot write the trace to ${path} any more (${error.message}); training goes on without it`),
  );
  const spans = new TraceRecorder(file, { pid: process.pid, processName });
  const flushNow = (): void => {
    spans.flush();
    file.flushSync();
  };
  const onSignal = (signal: NodeJS.Signals): void => {
    flushNow();
    detach();
    if (process.listenerCount(signal) === 0) process.kill(process.pid, signal);
  };
  const detach = (): void => {
    process.off('exit', flushNow);
    for (const signal of SIGNALS) process.off(signal, onSignal);
  };
  process.on('exit', flushNow);
  for (const signal of SIGNALS) process.on(signal, onSignal);
  logger.info({ trace: path }, `recording this process's spans into ${path} (dptrain trace merge <folder> makes one timeline of a folder of them)`);
  return {
    spans,
    async close() {
      detach();
      spans.stop();
      await file.close();
    },
  };
}
