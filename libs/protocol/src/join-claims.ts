/**
 * What a join token says (join-token.ts signs it), readable without the job's secret: a browser
 * page reads the job id from it to state in its handshake. Nothing here is trusted until a server
 * has checked the signature.
 */
export interface JoinClaims {
  /** The job the token admits to. */
  readonly job: string;
  /** The only role a join token grants. */
  readonly role: 'worker';
  /** Expiry, in milliseconds since the epoch: connections opened later are refused. */
  readonly exp: number;
  /** Makes every token unique (no two links look alike in logs). */
  readonly nonce: string;
}

/** The claims of a token `<payload>.<signature>` (base64url), or undefined when it is not one. */
export function readJoinClaims(token: string): JoinClaims | undefined {
  const [payload, signature, extra] = token.split('.');
  if (!payload || !signature || extra !== undefined) return undefined;
  try {
    const claims = JSON.parse(new TextDecoder().decode(fromBase64Url(payload))) as Partial<JoinClaims>;
    const valid =
      typeof claims.job === 'string' &&
      claims.role === 'worker' &&
      Number.isSafeInteger(claims.exp) &&
      typeof claims.nonce === 'string' &&
      claims.nonce.length <= 64;
    return valid ? (claims as JoinClaims) : undefined;
  } catch {
    return undefined;
  }
}

export function toBase64Url(bytes: Uint8Array): string {
  let binary = '';
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

export function fromBase64Url(text: string): Uint8Array {
  if (!/^[A-Za-z0-9_-]*$/.test(text)) throw new RangeError('not base64url');
  const binary = atob(text.replace(/-/g, '+').replace(/_/g, '/'));
  return Uint8Array.from(binary, (c) => c.charCodeAt(0));
}
