export type LogLevel = 'info' | 'warn' | 'error';

/** One structured log line: what happened (`event`) and the fields that identify it. */
export interface LogRecord {
  readonly level: LogLevel;
  readonly event: string;
  readonly [field: string]: unknown;
}

export type Logger = (record: LogRecord) => void;

/** Writes each record as one JSON line on stderr. The default logger of servers and clients. */
export const stderrLogger: Logger = (record) => {
  process.stderr.write(`${JSON.stringify({ time: new Date().toISOString(), ...record })}\n`);
};

export const silentLogger: Logger = () => undefined;
