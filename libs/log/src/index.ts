export { silentLogger, stderrLogger } from './logger.js';
export type { LogLevel, LogRecord, Logger } from './logger.js';
