import { readdir, readFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { withCode } from '@dptrain/errors';
import { makeDirectory, writeFileAtomic } from '@dptrain/safetensors';
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
    throw new TraceMergeError(
      `cannot read the trace folder ${dir} (${code}); give the folder of dptrain local --trace, or the one holding the roles' --trace files`,
      {
        cause: error,
      },
    );
  }
  return names
    .filter((name) => name.endsWith(TRACE_FILE_SUFFIX))
    .sort()
    .map((name) => join(dir, name));
}

/** The folder of `dptrain local --trace` cannot take this run's traces. */
export class TraceFolderError extends withCode('E_TRACE_FOLDER') {}

/**
 * Readies `dir` for `dptrain local --trace DIR`: created when missing. A new run refuses a folder
 * holding the traces of an earlier one (a merge would mix the two runs); a resumed run continues them.
 * @throws TraceFolderError naming the files and the fix
 */
export async function prepareTraceFolder(dir: string, resume: boolean): Promise<void> {
  try {
    await makeDirectory(dir);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
    throw new TraceFolderError(`cannot create the trace folder ${dir} (${code}); give --trace a folder this user can write`, { cause: error });
  }
  if (resume) return;
  const earlier = await traceFilesIn(dir);
  if (earlier.length > 0)
    throw new TraceFolderError(
      `--trace ${dir} already holds the traces of an earlier run (${earlier.map((f) => basename(f)).join(', ')}); give a new or empty folder, or delete them (a run continued with --resume adds to them)`,
    );
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
