import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { ProtocolError } from './errors.js';
import { fromBase64Url, readJoinClaims, toBase64Url, type JoinClaims } from './join-claims.js';

/**
 * A join token admits one more worker to a job without handing it the job's secret: a browser tab
 * opening the coordinator's join link gets one, never DPTRAIN_TOKEN. It is the claims (job, role
 * worker, expiry, nonce) signed with HMAC-SHA-256 under the job's token, so every process of the
 * job (coordinator and shards) checks it with what it already holds, and a token is worth nothing
 * to another job or after its expiry. A browser cannot set headers on a WebSocket, so the token and
 * the identity travel in the upgrade URL's query (handshake.ts) and are checked before the upgrade.
 */
export const DEFAULT_JOIN_TTL_MS = 3_600_000;

const CONTEXT = 'dptrain-join-v1.';

export function mintJoinToken(secret: string, jobId: string, options: { readonly ttlMs?: number; readonly now?: number } = {}): string {
  const claims: JoinClaims = {
    job: jobId,
    role: 'worker',
    exp: (options.now ?? Date.now()) + (options.ttlMs ?? DEFAULT_JOIN_TTL_MS),
    nonce: toBase64Url(randomBytes(12)),
  };
  const payload = toBase64Url(new TextEncoder().encode(JSON.stringify(claims)));
  return `${payload}.${toBase64Url(sign(secret, payload))}`;
}

/**
 * The claims of a token this job signed and that has not expired.
 * @throws ProtocolError E_AUTH naming what is wrong and what to do
 */
export function verifyJoinToken(token: string, secret: string, jobId: string, now = Date.now()): JoinClaims {
  const claims = readJoinClaims(token);
  if (!claims) throw refused('the join token is malformed (expected <claims>.<signature>); copy the whole join link again');
  let signature: Uint8Array;
  try {
    signature = fromBase64Url(token.slice(token.indexOf('.') + 1));
  } catch {
    signature = new Uint8Array(0);
  }
  const expected = sign(secret, token.slice(0, token.indexOf('.')));
  if (signature.length !== expected.length || !timingSafeEqual(signature, expected)) {
    throw refused("the join token was not issued by this job (its signature does not match the job's token); ask for a new join link");
  }
  if (claims.job !== jobId) {
    throw refused(`the join token is for job ${JSON.stringify(claims.job.slice(0, 128))}, this is ${JSON.stringify(jobId)}; ask for a join link of this job`);
  }
  if (claims.exp <= now) {
    throw refused(
      `the join token expired at ${new Date(claims.exp).toISOString()}; ask for a new join link (dptrain coordinator --join-link, or the dashboard's "join as a worker")`,
    );
  }
  return claims;
}

/** E_AUTH with the fix its message names: the catalog's help speaks of the job's token, not of join links. */
function refused(detail: string): ProtocolError {
  return new ProtocolError('E_AUTH', `E_AUTH: ${detail}`, { verbatim: true });
}

function sign(secret: string, payload: string): Buffer {
  return createHmac('sha256', secret)
    .update(CONTEXT + payload)
    .digest();
}
