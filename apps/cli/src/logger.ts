import { pino, type Logger } from 'pino';
import pretty from 'pino-pretty';

export type { Logger };

/**
 * Logs go to stderr so stdout stays free for results; readable lines on a terminal, JSON lines
 * (one object each, for tools) otherwise. `DPTRAIN_LOG_LEVEL` sets the level (default info).
 */
export function createLogger(role: string): Logger {
  const level = process.env.DPTRAIN_LOG_LEVEL ?? 'info';
  const base = { role, pid: process.pid };
  if (process.stderr.isTTY) {
    return pino({ level, base }, pretty({ destination: 2, colorize: true, ignore: 'pid,hostname', translateTime: 'HH:MM:ss' }));
  }
  return pino({ level, base }, pino.destination({ fd: 2, sync: true }));
}
