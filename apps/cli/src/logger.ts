import { pino, type Logger } from 'pino';
import pretty, { prettyFactory } from 'pino-pretty';

export type { Logger };

/**
 * Logs go to stderr so stdout stays free for results; readable lines on a terminal, JSON lines
 * (one object each, for tools) otherwise. `DPTRAIN_LOG_LEVEL` sets the level (default info).
 */
export function createLogger(role: string): Logger {
  const level = process.env.DPTRAIN_LOG_LEVEL ?? 'info';
  const base = { role, pid: process.pid };
  if (process.stderr.isTTY) return pino({ level, base }, pretty({ ...PRETTY, destination: 2 }));
  return pino({ level, base }, pino.destination({ fd: 2, sync: true }));
}

const PRETTY = { colorize: true, singleLine: true, ignore: 'pid,hostname', translateTime: 'HH:MM:ss' } as const;

/** A log line another dptrain process wrote as JSON, formatted as this terminal shows its own. */
export const prettyLine: (record: Record<string, unknown>) => string = prettyFactory(PRETTY);
