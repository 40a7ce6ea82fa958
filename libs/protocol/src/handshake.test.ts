import { afterEach, describe, expect, it } from 'vitest';
import { ProtocolError } from './errors.js';
import { MIN_PEER_MAX_PAYLOAD } from './limits.js';
import { PROTOCOL_VERSION } from './messages.js';
import {
  checkIdentity,
  checkUpgradeRequest,
  checkUpgradeResponse,
  refusalError,
  refusalResponse,
  requestHeaders,
  resolveToken,
  tokenDigest,
} from './handshake.js';

const identity = { role: 'worker', jobId: 'job-1', maxPayload: 1 << 20, name: 'w 1' } as const;
const digest = tokenDigest('s3cret');

function codeOf(run: () => unknown): string {
  try {
    run();
    return 'ok';
  } catch (error) {
    return error instanceof ProtocolError ? error.code : `non-protocol ${String(error)}`;
  }
}

const saved = process.env.DPTRAIN_TOKEN;
afterEach(() => {
  if (saved === undefined) delete process.env.DPTRAIN_TOKEN;
  else process.env.DPTRAIN_TOKEN = saved;
});

describe('checkUpgradeRequest', () => {
  it('accepts the headers the client sends and reads the peer identity from them', () => {
    const peer = checkUpgradeRequest(requestHeaders(identity, 's3cret'), digest, 'job-1', ['worker']);
    expect(peer).toEqual({ role: 'worker', jobId: 'job-1', maxPayload: 1 << 20, name: 'w 1', version: PROTOCOL_VERSION });
  });

  it('refuses a declared maxPayload too small for control messages, whose error replies would not fit', () => {
    const small = { ...requestHeaders(identity, 's3cret'), 'x-dptrain-max-payload': String(MIN_PEER_MAX_PAYLOAD - 1) };
    const floor = { ...requestHeaders(identity, 's3cret'), 'x-dptrain-max-payload': String(MIN_PEER_MAX_PAYLOAD) };
    expect(codeOf(() => checkUpgradeRequest(small, digest, 'job-1', ['worker']))).toBe('E_HANDSHAKE');
    expect(codeOf(() => checkUpgradeRequest(floor, digest, 'job-1', ['worker']))).toBe('ok');
    expect(() => checkIdentity({ ...identity, maxPayload: 1 })).toThrow(/maxPayload/);
  });

  it('checks the token first: a wrong token is E_AUTH even when everything else is wrong too', () => {
    const headers = { ...requestHeaders(identity, 'guess'), 'x-dptrain-version': '9', 'x-dptrain-job': 'other' };
    expect(codeOf(() => checkUpgradeRequest(headers, digest, 'job-1', ['worker']))).toBe('E_AUTH');
    expect(codeOf(() => checkUpgradeRequest({ authorization: 'Basic czNjcmV0' }, digest, 'job-1', ['worker']))).toBe('E_AUTH');
    // Tokens of different lengths are compared as equal-length digests (no length leak, no throw).
    const long = requestHeaders(identity, 's3cret'.repeat(100));
    expect(codeOf(() => checkUpgradeRequest(long, digest, 'job-1', ['worker']))).toBe('E_AUTH');
  });

  it('refuses a bad max-payload header', () => {
    const headers = { ...requestHeaders(identity, 's3cret'), 'x-dptrain-max-payload': '-5' };
    expect(codeOf(() => checkUpgradeRequest(headers, digest, 'job-1', ['worker']))).toBe('E_HANDSHAKE');
  });
});

describe('checkUpgradeResponse', () => {
  const response = {
    'x-dptrain-role': 'ps',
    'x-dptrain-version': String(PROTOCOL_VERSION),
    'x-dptrain-job': 'job-1',
    'x-dptrain-max-payload': String(1 << 20),
  };

  it('refuses a server of another protocol version or job', () => {
    expect(codeOf(() => checkUpgradeResponse(response, 'job-1'))).toBe('ok');
    expect(codeOf(() => checkUpgradeResponse({ ...response, 'x-dptrain-version': '0' }, 'job-1'))).toBe('E_VERSION');
    expect(codeOf(() => checkUpgradeResponse(response, 'job-2'))).toBe('E_JOB');
    expect(codeOf(() => checkUpgradeResponse({}, 'job-1'))).toBe('E_HANDSHAKE');
  });
});

describe('refusals on the wire', () => {
  it('writes an HTTP response whose JSON body the client turns back into the same code', () => {
    const error = new ProtocolError('E_VERSION', 'protocol version mismatch: expected 1, got "2"');
    const response = refusalResponse(error);
    expect(response.startsWith('HTTP/1.1 400 Bad Request\r\n')).toBe(true);
    const body = response.slice(response.indexOf('\r\n\r\n') + 4);
    expect(response).toContain(`Content-Length: ${Buffer.byteLength(body)}\r\n`);
    const back = refusalError(400, body, 'ws://h:1/');
    expect(back.code).toBe('E_VERSION');
    expect(back.remote).toBe(true);
    expect(back.message).toBe(`ws://h:1/ refused the connection (HTTP 400): ${error.message}`);
  });

  it('maps foreign refusals by status', () => {
    expect(refusalError(401, 'Unauthorized', 'u').code).toBe('E_AUTH');
    expect(refusalError(502, '<html>bad gateway</html>', 'u').code).toBe('E_HANDSHAKE');
  });
});

describe('options', () => {
  it('falls back to DPTRAIN_TOKEN and explains how to set it', () => {
    process.env.DPTRAIN_TOKEN = 'from-the-environment';
    expect(resolveToken(undefined)).toBe('from-the-environment');
    expect(resolveToken('given-as-an-option')).toBe('given-as-an-option');
    delete process.env.DPTRAIN_TOKEN;
    expect(() => resolveToken(undefined)).toThrow(/DPTRAIN_TOKEN is unset.*export DPTRAIN_TOKEN=/);
  });

  it('refuses a token shorter than 16 characters, naming its length and how to make one', () => {
    expect(() => resolveToken('s3cret')).toThrow(/has 6 characters, fewer than 16: too easy to guess; help: export DPTRAIN_TOKEN=\$\(openssl rand -hex 24\)/);
    expect(resolveToken('x'.repeat(16))).toBe('x'.repeat(16));
  });

  it('refuses identities that cannot travel in headers', () => {
    expect(() => checkIdentity({ ...identity, jobId: 'has space' })).toThrow(/jobId must be 1–128 visible ASCII/);
    expect(() => checkIdentity({ ...identity, name: 'line\nbreak' })).toThrow(/name must be at most 128 printable ASCII/);
    expect(() => checkIdentity({ ...identity, role: 'boss' as never })).toThrow(/role must be one of coordinator, ps, worker, client/);
  });
});
