import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';

/**
 * The check every role's token-only HTTP route makes: `Authorization: Bearer <token>` with the
 * job's token, compared as sha256 digests in constant time (equal lengths, whatever was sent).
 * A request without it is answered here, 401 `E_AUTH` naming the header to send; the route then
 * does nothing more.
 */
export function tokenGuard(token: string): (request: IncomingMessage, response: ServerResponse, path: string) => boolean {
  const digest = createHash('sha256').update(token).digest();
  return (request, response, path) => {
    const given = /^Bearer (.+)$/.exec(request.headers.authorization ?? '')?.[1];
    if (given !== undefined && timingSafeEqual(createHash('sha256').update(given).digest(), digest)) return true;
    response.writeHead(401, { 'content-type': 'application/json', 'www-authenticate': 'Bearer realm="dptrain"' });
    response.end(`${JSON.stringify({ code: 'E_AUTH', message: `GET ${path} needs the job's token: send "Authorization: Bearer $DPTRAIN_TOKEN"` })}\n`);
    return false;
  };
}
