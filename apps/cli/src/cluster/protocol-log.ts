import type { Logger as ProtocolLogger } from '@dptrain/log';
import type { Logger } from '../logger.js';

/**
 * The protocol's structured records written through the command's pino logger. The record's
 * `level` is the call's; its `role` (a peer's, in connection events) becomes `peerRole`, so no key
 * of the line repeats the logger's own `level` and `role`.
 */
export function protocolLog(logger: Logger): ProtocolLogger {
  return ({ level, role, ...fields }) => logger[level]({ ...fields, ...(role === undefined ? {} : { peerRole: role }) }, String(fields.event));
}
