import { PROTOCOL_VERSION, type Role } from './messages.js';

// The handshake's names (handshake.ts), in a module a browser bundle can take without node:crypto.
export const HEADER_ROLE = 'x-dptrain-role';
export const HEADER_VERSION = 'x-dptrain-version';
export const HEADER_JOB = 'x-dptrain-job';
export const HEADER_NAME = 'x-dptrain-name';
export const HEADER_MAX_PAYLOAD = 'x-dptrain-max-payload';

/** Query parameters of a join request (a browser's upgrade URL) and the header each stands for. */
export const JOIN_QUERY = {
  join: 'join',
  role: HEADER_ROLE,
  version: HEADER_VERSION,
  job: HEADER_JOB,
  maxPayload: HEADER_MAX_PAYLOAD,
  name: HEADER_NAME,
} as const;

/** The query of a browser's upgrade URL: a join token and the identity a Node peer puts in headers. */
export function joinQuery(
  identity: { readonly role: Role; readonly jobId: string; readonly maxPayload: number; readonly name?: string },
  joinToken: string,
): string {
  const params = new URLSearchParams({
    join: joinToken,
    role: identity.role,
    version: String(PROTOCOL_VERSION),
    job: identity.jobId,
    maxPayload: String(identity.maxPayload),
    ...(identity.name ? { name: identity.name } : {}),
  } satisfies Partial<Record<keyof typeof JOIN_QUERY, string>>);
  return `?${params.toString()}`;
}
