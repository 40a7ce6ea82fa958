import type { Logger as ProtocolLogger } from '@dptrain/protocol';
import type { Logger } from '../logger.js';

/** The protocol's structured records written through the command's pino logger. */
export function protocolLog(logger: Logger): ProtocolLogger {
  return (record) => logger[record.level](record, record.event);
}
