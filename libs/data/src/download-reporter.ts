import { createRequire } from 'node:module';
import type { DownloadProgress } from './download.js';

/** Where reports go: a writable stream; a progress bar is drawn only when it is a terminal. */
export interface ReportStream {
  write(text: string): unknown;
  readonly isTTY?: boolean;
}

/** The part of cli-progress used here (the package ships no type declarations). */
interface CliProgress {
  SingleBar: new (
    options: Record<string, unknown>,
    preset: unknown,
  ) => {
    start(total: number, value: number, payload: Record<string, string>): void;
    update(value: number, payload: Record<string, string>): void;
    setTotal(total: number): void;
    stop(): void;
  };
  Presets: { shades_classic: unknown };
}

/**
 * Reports downloads on `stream` (default stderr): a cli-progress bar per file when the stream is a
 * terminal, otherwise plain lines (start, each quarter when the size is known, done) that read well
 * in CI logs and `docker logs`.
 */
export function createDownloadReporter(stream: ReportStream = process.stderr): (progress: DownloadProgress) => void {
  return stream.isTTY === true ? barReporter(stream) : lineReporter(stream);
}

function lineReporter(stream: ReportStream): (progress: DownloadProgress) => void {
  const quarterShown = new Map<string, number>();
  return (p) => {
    if (!quarterShown.has(p.file)) {
      quarterShown.set(p.file, 0);
      stream.write(`dptrain: downloading ${p.url}${p.total === undefined ? '' : ` (${megabytes(p.total)} MB)`}\n`);
    }
    if (p.done) {
      quarterShown.delete(p.file);
      stream.write(`dptrain: downloaded ${p.file}, ${megabytes(p.received)} MB, SHA-256 verified\n`);
      return;
    }
    if (p.total === undefined) return;
    const quarter = Math.floor((4 * p.received) / p.total);
    if (quarter > quarterShown.get(p.file)! && quarter < 4) {
      quarterShown.set(p.file, quarter);
      stream.write(`dptrain: ${p.file} ${quarter * 25}%\n`);
    }
  };
}

function barReporter(stream: ReportStream): (progress: DownloadProgress) => void {
  const { SingleBar, Presets } = createRequire(import.meta.url)('cli-progress') as CliProgress;
  const bars = new Map<string, InstanceType<CliProgress['SingleBar']>>();
  return (p) => {
    const payload = { file: p.file, received: megabytes(p.received), size: p.total === undefined ? '?' : megabytes(p.total) };
    let bar = bars.get(p.file);
    if (bar === undefined) {
      bar = new SingleBar({ stream, format: '{file} |{bar}| {percentage}% {received}/{size} MB', hideCursor: true }, Presets.shades_classic);
      bar.start(p.total ?? p.received, 0, payload);
      bars.set(p.file, bar);
    }
    if (p.total === undefined) bar.setTotal(p.received);
    bar.update(p.received, payload);
    if (p.done) {
      bar.stop();
      bars.delete(p.file);
    }
  };
}

function megabytes(bytes: number): string {
  return (bytes / 1e6).toFixed(1);
}
