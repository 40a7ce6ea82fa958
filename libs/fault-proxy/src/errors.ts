import { CodedError } from '@dptrain/errors';

/**
 * Why the proxy refused a stream or an option. `code` is stable for tools; the message names the
 * offending value and what to do instead.
 */
export type FaultProxyErrorCode =
  /** A WebSocket frame header that RFC 6455 forbids (64-bit length with the top bit set, …). */
  | 'E_WS_FRAME'
  /** A frame or HTTP preamble larger than the proxy buffers. */
  | 'E_WS_TOO_LARGE'
  /** A fault schedule or proxy option out of range. */
  | 'E_SCHEDULE'
  /** A network-namespace command failed (`ip`, `nft`). */
  | 'E_NETNS';

export class FaultProxyError extends CodedError<FaultProxyErrorCode> {
  constructor(code: FaultProxyErrorCode, message: string, options?: { cause?: unknown }) {
    super(code, `${code}: ${message}`, options);
  }
}
