import type { IncomingHttpHeaders } from 'node:http';
import { WebSocket } from './ws.js';
import { resolveConnectionOptions, type Connection, type ConnectionOptions } from './connection.js';
import { ProtocolError } from './errors.js';
import { checkIdentity, checkUpgradeResponse, refusalError, requestHeaders, resolveToken } from './handshake.js';
import { DEFAULT_HANDSHAKE_TIMEOUT_MS, DEFAULT_MAX_PAYLOAD, maxPayloadFor, requireCount } from './limits.js';
import type { Role } from './messages.js';
import { attachSocket } from './ws-pipe.js';

/**
 * RFC 6455 has clients mask their frames with a random key so that a hostile script in a browser
 * cannot make a frame look like an HTTP request to a caching proxy between it and the server. A
 * dptrain peer is no browser, and each connection is authenticated by the job's token, so the key
 * is all zeros: ws then neither copies nor XORs the payload (a whole gradient per push) on the
 * sending side, and the receiving side skips the unmasking pass. The frames stay valid WebSocket
 * frames (the mask bit is set; any server accepts them).
 */
function zeroMask(mask: Uint8Array): void {
  mask.fill(0);
}

export interface ConnectOptions extends ConnectionOptions {
  /** Role this process plays. */
  readonly role: Role;
  readonly jobId: string;
  /** Shared secret of the job. @default process.env.DPTRAIN_TOKEN */
  readonly token?: string;
  /** Name announced to the server (x-dptrain-name), for its logs. */
  readonly name?: string;
  /** Refuse the connection (E_ROLE) unless the server announces this role. No check when unset. */
  readonly expectRole?: Role;
  /**
   * Largest frame accepted from the server, in bytes.
   * @default maxPayloadFor(validateOptions.paramCount) when paramCount is set, else 1 MiB
   */
  readonly maxPayload?: number;
  /** @default DEFAULT_HANDSHAKE_TIMEOUT_MS (10_000) */
  readonly handshakeTimeoutMs?: number;
  /**
   * Certificate authorities (PEM) that a wss:// server's certificate must chain to, e.g. the
   * job's self-signed certificate. @default Node's trusted CAs (and NODE_EXTRA_CA_CERTS)
   */
  readonly ca?: string | Buffer;
}

/** Bytes of a refusal body read before giving up on the rest. */
const MAX_REFUSAL_BODY = 4096;

/**
 * Opens an authenticated connection to a dptrain server at `url` (ws://host:port/ or wss://).
 *
 * @throws RangeError (synchronously) on invalid options or a missing token
 * @throws ProtocolError (rejects) with the server's refusal code (E_AUTH, E_VERSION, E_JOB,
 *   E_ROLE, E_HANDSHAKE), or E_CONNECT when the server cannot be reached (retryable)
 * @example
 * const ps = await connect('ws://127.0.0.1:7001/', { role: 'worker', jobId, expectRole: 'ps' });
 * const params = await ps.request({ type: 'pull', step: 0 });
 */
export function connect(url: string, options: ConnectOptions): Promise<Connection> {
  const token = resolveToken(options.token);
  const paramCount = options.validateOptions?.paramCount;
  const maxPayload = options.maxPayload ?? (paramCount !== undefined ? maxPayloadFor(paramCount) : DEFAULT_MAX_PAYLOAD);
  const identity = { role: options.role, jobId: options.jobId, maxPayload, name: options.name };
  checkIdentity(identity);
  const handshakeTimeoutMs = options.handshakeTimeoutMs ?? DEFAULT_HANDSHAKE_TIMEOUT_MS;
  requireCount('handshakeTimeoutMs', handshakeTimeoutMs, 1);
  const resolved = resolveConnectionOptions(options);

  return new Promise<Connection>((resolve, reject) => {
    let settled = false;
    let serverHeaders: IncomingHttpHeaders = {};
    const fail = (error: ProtocolError): void => {
      if (settled) return;
      settled = true;
      resolved.log({ level: 'warn', event: 'connect-failed', url, code: error.code, message: error.message });
      reject(error);
    };
    const ws = new WebSocket(url, {
      headers: requestHeaders(identity, token),
      maxPayload,
      perMessageDeflate: false,
      handshakeTimeout: handshakeTimeoutMs,
      generateMask: zeroMask,
      ...(options.ca ? { ca: options.ca } : {}),
    });
    ws.on('upgrade', (response) => {
      serverHeaders = response.headers;
    });
    ws.on('unexpected-response', (request, response) => {
      const chunks: Buffer[] = [];
      let length = 0;
      const finish = (): void => {
        fail(refusalError(response.statusCode ?? 0, Buffer.concat(chunks).toString('utf8'), url));
        request.destroy();
      };
      response.on('data', (chunk: Buffer) => {
        if (length < MAX_REFUSAL_BODY) chunks.push(chunk.subarray(0, MAX_REFUSAL_BODY - length));
        length += chunk.length;
      });
      response.on('end', finish);
      response.on('error', finish);
    });
    ws.on('error', (error) => {
      fail(new ProtocolError('E_CONNECT', `cannot connect to ${url}: ${error.message}`, { cause: error }));
    });
    ws.on('close', (code) => {
      fail(new ProtocolError('E_CONNECT', `${url} closed the connection during the handshake (code ${code})`));
    });
    ws.on('open', () => {
      if (settled) return;
      let peer;
      try {
        peer = checkUpgradeResponse(serverHeaders, options.jobId, options.expectRole);
      } catch (error) {
        const refusal = error as ProtocolError;
        ws.close(refusal.closeCode, refusal.code);
        fail(refusal);
        return;
      }
      const { connection } = attachSocket(
        ws,
        { role: peer.role, jobId: peer.jobId, version: peer.version, name: peer.name, address: url, maxPayload: peer.maxPayload },
        resolved,
        maxPayload,
      );
      settled = true;
      resolve(connection);
    });
  });
}
