import { describe, expect, it } from 'vitest';
import { ProtocolError } from './errors.js';
import { checkJoinRequest } from './handshake.js';
import { joinQuery } from './handshake-names.js';
import { readJoinClaims } from './join-claims.js';
import { mintJoinToken, verifyJoinToken } from './join-token.js';

const SECRET = 'the-job-token-of-at-least-16';
const NOW = Date.UTC(2026, 11, 6, 12);
const message = (fn: () => unknown): string => {
  try {
    fn();
    return 'accepted';
  } catch (error) {
    return (error as ProtocolError).message;
  }
};

describe('join tokens', () => {
  it('admits a worker to the job that signed it until it expires', () => {
    const token = mintJoinToken(SECRET, 'job-1', { ttlMs: 60_000, now: NOW });
    expect(verifyJoinToken(token, SECRET, 'job-1', NOW + 59_999)).toMatchObject({ job: 'job-1', role: 'worker', exp: NOW + 60_000 });
    expect(message(() => verifyJoinToken(token, SECRET, 'job-1', NOW + 60_000))).toMatch(
      /^E_AUTH: the join token expired at 2026-12-06T12:01:00.000Z; ask for a new join link/,
    );
  });

  it('is worth nothing to another job, under another secret, or altered', () => {
    const token = mintJoinToken(SECRET, 'job-1', { now: NOW });
    expect(message(() => verifyJoinToken(token, 'another-job-token-of-16+', 'job-1', NOW))).toMatch(/^E_AUTH: the join token was not issued by this job/);
    expect(message(() => verifyJoinToken(token, SECRET, 'job-2', NOW))).toMatch(
      /^E_AUTH: the join token is for job "job-1", this is "job-2"; ask for a join link of this job$/,
    );
    // Claims rewritten to live longer, signature kept: refused.
    const claims = readJoinClaims(token)!;
    const forged = `${Buffer.from(JSON.stringify({ ...claims, exp: claims.exp + 1e9 })).toString('base64url')}.${token.split('.')[1]}`;
    expect(message(() => verifyJoinToken(forged, SECRET, 'job-1', NOW))).toMatch(/^E_AUTH: the join token was not issued by this job/);
    expect(message(() => verifyJoinToken('not-a-token', SECRET, 'job-1', NOW))).toMatch(/^E_AUTH: the join token is malformed/);
    expect(mintJoinToken(SECRET, 'job-1', { now: NOW })).not.toBe(token);
  });

  it('a join request states the identity in its query, and the token admits a worker only', () => {
    const token = mintJoinToken(SECRET, 'job-1', { now: NOW });
    const identity = { role: 'worker' as const, jobId: 'job-1', maxPayload: 1 << 20, name: 'browser-1' };
    expect(checkJoinRequest(`/${joinQuery(identity, token)}`, SECRET, 'job-1', ['worker', 'ps'], NOW)).toMatchObject({ ...identity, joined: true });
    expect(message(() => checkJoinRequest(`/${joinQuery({ ...identity, role: 'ps' }, token)}`, SECRET, 'job-1', ['worker', 'ps'], NOW))).toMatch(
      /^E_ROLE: a join token admits a worker, not a ps/,
    );
    expect(message(() => checkJoinRequest(`/${joinQuery(identity, token)}`, SECRET, 'job-1', ['ps'], NOW))).toMatch(
      /^E_ROLE: this server accepts ps, not a worker/,
    );
    expect(message(() => checkJoinRequest(`/?join=${token}`, SECRET, 'job-1', ['worker'], NOW))).toMatch(
      /^E_HANDSHAKE: the join request has no x-dptrain-version/,
    );
  });
});
