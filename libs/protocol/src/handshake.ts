import { createHash, timingSafeEqual } from 'node:crypto';
import { STATUS_CODES, type IncomingHttpHeaders } from 'node:http';
import { ProtocolError, isErrorCode } from './errors.js';
import { MIN_PEER_MAX_PAYLOAD, MIN_TOKEN_LENGTH, requireCount } from './limits.js';
import { PROTOCOL_VERSION, ROLES, type Role } from './messages.js';
import { verifyJoinToken } from './join-token.js';
import { HEADER_JOB, HEADER_MAX_PAYLOAD, HEADER_NAME, HEADER_ROLE, HEADER_VERSION, JOIN_QUERY } from './handshake-names.js';

/**
 * The handshake rides on the HTTP upgrade request, so a refused peer never gets a WebSocket:
 *
 *   GET / HTTP/1.1                              HTTP/1.1 101 Switching Protocols
 *   Authorization: Bearer <DPTRAIN_TOKEN>        x-dptrain-role: ps
 *   x-dptrain-role: worker                 →     x-dptrain-version: 1
 *   x-dptrain-version: 1                         x-dptrain-job: <job id>
 *   x-dptrain-job: <job id>                      x-dptrain-max-payload: <bytes>
 *   x-dptrain-max-payload: <bytes>
 *   x-dptrain-name: <free-form, optional>
 *
 * The server checks, in order: token (401 E_AUTH, constant-time on SHA-256 digests), headers
 * present and well-formed (400 E_HANDSHAKE), version (400 E_VERSION), job id (409 E_JOB), role
 * (403 E_ROLE). A refusal is an HTTP response with a JSON body {code, message}; the client turns it
 * into a ProtocolError with that code. The client checks the server's answer the same way.
 */
export { HEADER_JOB, HEADER_MAX_PAYLOAD, HEADER_NAME, HEADER_ROLE, HEADER_VERSION } from './handshake-names.js';

/** What one side states about itself in the handshake. */
export interface Identity {
  readonly role: Role;
  readonly jobId: string;
  readonly maxPayload: number;
  readonly name?: string;
}

/** What the other side stated, once checked. */
export interface PeerIdentity extends Identity {
  readonly version: number;
  /** Admitted by a join token (a browser tab), not by the job's token. */
  readonly joined?: true;
}

const VISIBLE_ASCII = /^[\x21-\x7e]{1,128}$/;
const PRINTABLE_ASCII = /^[\x20-\x7e]{0,128}$/;

/**
 * The shared token: `token` when given, else $DPTRAIN_TOKEN.
 * @throws RangeError when neither is set or the token is empty
 */
export function resolveToken(token: string | undefined): string {
  const value = token ?? process.env.DPTRAIN_TOKEN;
  if (!value) {
    throw new RangeError(
      'no shared token: DPTRAIN_TOKEN is unset and no token option was given; help: export DPTRAIN_TOKEN=$(openssl rand -hex 24) on every process of the job',
    );
  }
  if (value.length < MIN_TOKEN_LENGTH) {
    throw new RangeError(
      `the shared token (DPTRAIN_TOKEN) has ${value.length} characters, fewer than ${MIN_TOKEN_LENGTH}: too easy to guess; help: export DPTRAIN_TOKEN=$(openssl rand -hex 24) on every process of the job`,
    );
  }
  return value;
}

/** @throws RangeError naming the field when an identity cannot be put in HTTP headers */
export function checkIdentity(identity: Identity): void {
  if (!ROLES.includes(identity.role)) {
    throw new RangeError(`role must be one of ${ROLES.join(', ')}, got ${JSON.stringify(identity.role)}`);
  }
  if (!VISIBLE_ASCII.test(identity.jobId)) {
    throw new RangeError(
      `jobId must be 1–128 visible ASCII characters without spaces, got ${JSON.stringify(identity.jobId)}; help: use e.g. a timestamp or UUID`,
    );
  }
  if (identity.name !== undefined && !PRINTABLE_ASCII.test(identity.name)) {
    throw new RangeError(`name must be at most 128 printable ASCII characters, got ${JSON.stringify(identity.name)}`);
  }
  requireCount('maxPayload', identity.maxPayload, MIN_PEER_MAX_PAYLOAD);
}

export function tokenDigest(token: string): Buffer {
  return createHash('sha256').update(token, 'utf8').digest();
}

/** Headers of the client's upgrade request. */
export function requestHeaders(identity: Identity, token: string): Record<string, string> {
  return {
    authorization: `Bearer ${token}`,
    ...identityHeaders(identity),
  };
}

/** Header lines the server adds to its 101 response. */
export function responseHeaderLines(identity: Identity): string[] {
  return Object.entries(identityHeaders(identity)).map(([key, value]) => `${key}: ${value}`);
}

function identityHeaders(identity: Identity): Record<string, string> {
  return {
    [HEADER_ROLE]: identity.role,
    [HEADER_VERSION]: String(PROTOCOL_VERSION),
    [HEADER_JOB]: identity.jobId,
    [HEADER_MAX_PAYLOAD]: String(identity.maxPayload),
    ...(identity.name ? { [HEADER_NAME]: identity.name } : {}),
  };
}

/**
 * Server side: checks an upgrade request's headers.
 * @param expectedDigest tokenDigest(server token)
 * @throws ProtocolError E_AUTH, E_HANDSHAKE, E_VERSION, E_JOB or E_ROLE
 */
export function checkUpgradeRequest(headers: IncomingHttpHeaders, expectedDigest: Buffer, jobId: string, acceptRoles: readonly Role[]): PeerIdentity {
  const auth = headers.authorization;
  const match = typeof auth === 'string' ? /^Bearer (.+)$/.exec(auth) : null;
  if (!match) {
    throw new ProtocolError('E_AUTH', 'the upgrade request has no "Authorization: Bearer <token>" header and no join token');
  }
  if (!timingSafeEqual(tokenDigest(match[1]), expectedDigest)) {
    throw new ProtocolError('E_AUTH', "the token does not match this job's token");
  }
  const peer = readIdentity(headers, 'upgrade request');
  if (!acceptRoles.includes(peer.role)) {
    throw new ProtocolError('E_ROLE', `this server accepts ${acceptRoles.join(', ')}, not a ${peer.role}`);
  }
  checkJob(peer, jobId);
  return peer;
}

/** Whether an upgrade request authenticates with a join token rather than the job's token. */
export function isJoinRequest(headers: IncomingHttpHeaders, url: string | undefined): boolean {
  return headers.authorization === undefined && new URL(url ?? '/', 'http://x').searchParams.has(JOIN_QUERY.join);
}

/**
 * Server side: checks a join request (a browser cannot set headers on a WebSocket, so the identity
 * comes in the URL's query): the token's signature under `secret`, its expiry and job, then the
 * identity as checkUpgradeRequest checks headers. A join token admits a worker only.
 * @throws ProtocolError E_AUTH, E_HANDSHAKE, E_VERSION, E_JOB or E_ROLE
 */
export function checkJoinRequest(url: string, secret: string, jobId: string, acceptRoles: readonly Role[], now = Date.now()): PeerIdentity {
  const query = new URL(url, 'http://x').searchParams;
  const claims = verifyJoinToken(query.get(JOIN_QUERY.join) ?? '', secret, jobId, now);
  const pseudoHeaders: IncomingHttpHeaders = {};
  for (const [param, header] of Object.entries(JOIN_QUERY)) {
    const value = query.get(param);
    if (param !== 'join' && value !== null) pseudoHeaders[header] = value;
  }
  const peer = readIdentity(pseudoHeaders, 'join request');
  if (peer.role !== claims.role) throw new ProtocolError('E_ROLE', `a join token admits a ${claims.role}, not a ${peer.role}`);
  if (!acceptRoles.includes(peer.role)) throw new ProtocolError('E_ROLE', `this server accepts ${acceptRoles.join(', ')}, not a ${peer.role}`);
  checkJob(peer, jobId);
  return { ...peer, joined: true };
}

/**
 * Client side: checks the server's 101 response headers.
 * @throws ProtocolError E_HANDSHAKE, E_VERSION, E_JOB or E_ROLE (when `expectRole` differs)
 */
export function checkUpgradeResponse(headers: IncomingHttpHeaders, jobId: string, expectRole?: Role): PeerIdentity {
  const peer = readIdentity(headers, 'server response');
  checkJob(peer, jobId);
  if (expectRole !== undefined && peer.role !== expectRole) {
    throw new ProtocolError('E_ROLE', `expected to reach a ${expectRole}, the server is a ${peer.role}`);
  }
  return peer;
}

function readIdentity(headers: IncomingHttpHeaders, where: string): PeerIdentity {
  const read = (name: string): string | undefined => {
    const value = headers[name];
    return typeof value === 'string' ? value : undefined;
  };
  const versionText = read(HEADER_VERSION);
  if (versionText === undefined) {
    throw new ProtocolError('E_HANDSHAKE', `the ${where} has no ${HEADER_VERSION} header`);
  }
  if (versionText !== String(PROTOCOL_VERSION)) {
    throw new ProtocolError('E_VERSION', `protocol version mismatch: expected ${PROTOCOL_VERSION}, got ${JSON.stringify(versionText)}`);
  }
  const role = read(HEADER_ROLE);
  if (!ROLES.includes(role as Role)) {
    throw new ProtocolError('E_HANDSHAKE', `the ${where} has ${HEADER_ROLE} ${JSON.stringify(role ?? null)}; expected one of ${ROLES.join(', ')}`);
  }
  const jobId = read(HEADER_JOB);
  if (jobId === undefined) throw new ProtocolError('E_HANDSHAKE', `the ${where} has no ${HEADER_JOB} header`);
  const maxPayloadText = read(HEADER_MAX_PAYLOAD) ?? '';
  const maxPayload = /^[1-9][0-9]{0,15}$/.test(maxPayloadText) ? Number(maxPayloadText) : NaN;
  if (!Number.isSafeInteger(maxPayload)) {
    throw new ProtocolError('E_HANDSHAKE', `the ${where} has ${HEADER_MAX_PAYLOAD} ${JSON.stringify(maxPayloadText)}; expected a positive byte count`);
  }
  if (maxPayload < MIN_PEER_MAX_PAYLOAD) {
    throw new ProtocolError(
      'E_HANDSHAKE',
      `the ${where} has ${HEADER_MAX_PAYLOAD} ${maxPayload}, below the ${MIN_PEER_MAX_PAYLOAD} bytes every control message may take; declare at least that`,
    );
  }
  const name = read(HEADER_NAME);
  return { role: role as Role, jobId, maxPayload, version: PROTOCOL_VERSION, ...(name ? { name: name.slice(0, 128) } : {}) };
}

function checkJob(peer: PeerIdentity, jobId: string): void {
  if (peer.jobId !== jobId) {
    throw new ProtocolError('E_JOB', `job id mismatch: expected ${JSON.stringify(jobId)}, got ${JSON.stringify(peer.jobId.slice(0, 128))}`);
  }
}

/** The raw HTTP response refusing an upgrade: status of the code, JSON body {code, message}. */
export function refusalResponse(error: ProtocolError): string {
  const body = JSON.stringify({ code: error.code, message: error.message });
  const status = error.httpStatus;
  return [
    `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'Error'}`,
    'Content-Type: application/json; charset=utf-8',
    `Content-Length: ${Buffer.byteLength(body)}`,
    'Connection: close',
    ...(status === 401 ? ['WWW-Authenticate: Bearer realm="dptrain"'] : []),
    '',
    body,
  ].join('\r\n');
}

/** Client side: the typed error for a refused upgrade (non-101 status and its body). */
export function refusalError(status: number, body: string, url: string): ProtocolError {
  try {
    const parsed = JSON.parse(body) as { code?: unknown; message?: unknown };
    if (isErrorCode(parsed.code) && typeof parsed.message === 'string') {
      return new ProtocolError(parsed.code, `${url} refused the connection (HTTP ${status}): ${parsed.message}`, {
        remote: true,
        verbatim: true,
      });
    }
  } catch {
    // Not one of ours; fall through with the raw body.
  }
  const code = status === 401 ? 'E_AUTH' : 'E_HANDSHAKE';
  return new ProtocolError(code, `${url} answered the upgrade with HTTP ${status}: ${JSON.stringify(body.slice(0, 200))}`);
}
