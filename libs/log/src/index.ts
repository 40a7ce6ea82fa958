export { silentLogger, stderrLogger } from './logger.js';
export type { LogLevel, LogRecord, Logger } from './logger.js';
export { INSTANT_NAMES, SPAN_NAMES, fanOut, noSpans } from './spans.js';
export type { EndSpan, InstantName, SpanArgs, SpanName, Spans } from './spans.js';
