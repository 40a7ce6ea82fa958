import { readdir, readFile, rm, rmdir } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { withCode } from '@dptrain/errors';
import { writeFileAtomic } from '@dptrain/safetensors';
import { parseTraceLines, TraceMergeError } from './trace-lines.js';
import { mergeTraces, type MergedProcess } from './trace-merge.js';

/** The name every `--trace` file of `dptrain local --trace DIR` has, and what `trace merge` reads. */
export const TRACE_FILE_SUFFIX = '.trace.jsonl';

export interface FolderMerge {
  readonly out: string;
  readonly processes: readonly MergedProcess[];
  /** Events written, metadata included. */
  readonly events: number;
  /** Files whose last line was cut short by a kill (that line left out). */
  readonly truncated: readonly string[];
}

/** The `*.trace.jsonl` files of `dir`, sorted by name. @throws TraceMergeError when `dir` cannot be read */
export async function traceFilesIn(dir: string): Promise<string[]> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
    const fix = "give the folder of dptrain local --trace, or the one holding the roles' --trace files";
    throw new TraceMergeError(`cannot read the trace folder ${dir} (${code}); ${fix}`, { cause: error });
  }
  return names
    .filter((name) => name.endsWith(TRACE_FILE_SUFFIX))
    .sort()
    .map((name) => join(dir, name));
}

/** The folder of `dptrain local --trace` cannot take this run's traces. */
export class TraceFolderError extends withCode('E_TRACE_FOLDER') {}

/**
 * Readies `dir` for the traces of `dptrain local --trace DIR` before the run starts. A new run
 * refuses a folder holding the traces of an earlier one (a merge would mix the two runs), `--force`
 * deletes them (and their merge, trace.json), and a resumed run adds to them. The folder itself is
 * made by the first process that records into it, after the coordinator has claimed the run
 * folder: so DIR may lie inside --out.
 * @throws TraceFolderError naming the files and the fix
 */
export async function prepareTraceFolder(dir: string, folder: 'new' | 'force' | 'resume'): Promise<void> {
  if (folder === 'resume') return;
  const earlier = await traceFilesIn(dir).catch((error: TraceMergeError) =>
    (error.cause as NodeJS.ErrnoException).code === 'ENOENT' ? [] : Promise.reject(error),
  );
  if (earlier.length === 0) return;
  if (folder === 'new')
    throw new TraceFolderError(
      `--trace ${dir} already holds the traces of an earlier run (${earlier.map((f) => basename(f)).join(', ')}); give a new or empty folder, --force to delete them, or --resume to continue that run and its traces`,
    );
  await Promise.all([...earlier, join(dir, 'trace.json')].map((file) => rm(file, { force: true })));
  // Emptied, it goes too: inside --out it would leave the run folder not empty for the coordinator.
  await rmdir(dir).catch(() => undefined);
}

/**
 * `dptrain trace merge DIR`: every `*.trace.jsonl` of `dir` into one Chrome-trace JSON file (`out`,
 * default `DIR/trace.json`) that ui.perfetto.dev and chrome://tracing open.
 * @throws TraceMergeError for a folder without trace files, or a line that is not a trace event
 */
export async function mergeTraceFolder(dir: string, out = join(dir, 'trace.json')): Promise<FolderMerge> {
  const files = await traceFilesIn(dir);
  if (files.length === 0)
    throw new TraceMergeError(
      `${dir} holds no *${TRACE_FILE_SUFFIX} file; record a run into it first: dptrain local --trace ${dir} …, or each role with --trace ${join(dir, '<name>' + TRACE_FILE_SUFFIX)}`,
    );
  const read = await Promise.all(files.map(async (file) => ({ file, ...parseTraceLines(file, await readFile(file, 'utf8')) })));
  const { trace, processes } = mergeTraces(read);
  // One event per line: the file stays readable (and diffable) beside the viewers.
  const text = `{"displayTimeUnit":"ms","otherData":${JSON.stringify(trace.otherData)},"traceEvents":[\n${trace.traceEvents.map((e) => JSON.stringify(e)).join(',\n')}\n]}\n`;
  try {
    await writeFileAtomic(out, text);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
    throw new TraceMergeError(`cannot write the merged trace to ${out} (${code}); give --out a file in a directory that exists and can be written`, {
      cause: error,
    });
  }
  return {
    out,
    processes,
    events: trace.traceEvents.length,
    truncated: read.filter((r) => r.truncatedLine !== undefined).map((r) => `${r.file}:${r.truncatedLine}`),
  };
}
