import { pino, type Logger } from 'pino';
import pretty, { prettyFactory } from 'pino-pretty';

export type { Logger };

export type LogFormat = 'pretty' | 'json';

/**
 * `--log-format` / `DPTRAIN_LOG_FORMAT` (main.ts puts the flag there, for every logger of the
 * process): readable lines on a terminal by default, JSON lines (one object each, for tools)
 * otherwise.
 */
export function logFormat(): LogFormat {
  const chosen = process.env.DPTRAIN_LOG_FORMAT;
  if (chosen === 'pretty' || chosen === 'json') return chosen;
  return process.stderr.isTTY ? 'pretty' : 'json';
}

/**
 * Logs go to stderr so stdout stays free for results. `DPTRAIN_LOG_LEVEL` sets the level
 * (default info). Every line has the same keys: level, time, role, pid, msg, then the record's own.
 */
export function createLogger(role: string): Logger {
  const level = process.env.DPTRAIN_LOG_LEVEL ?? 'info';
  const base = { role, pid: process.pid };
  if (logFormat() === 'pretty') return pino({ level, base }, pretty({ ...PRETTY, colorize: Boolean(process.stderr.isTTY), destination: 2 }));
  return pino({ level, base }, pino.destination({ fd: 2, sync: true }));
}

const PRETTY = { singleLine: true, ignore: 'pid,hostname', translateTime: 'HH:MM:ss' } as const;

/** A log line another dptrain process wrote as JSON, formatted as this terminal shows its own. */
export const prettyLine: (record: Record<string, unknown>) => string = prettyFactory({ ...PRETTY, colorize: Boolean(process.stderr.isTTY) });
