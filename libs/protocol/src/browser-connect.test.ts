import { afterEach, describe, expect, it } from 'vitest';
import { connectBrowser, type BrowserSocketClass } from './browser-connect.js';
import { joinQuery } from './handshake-names.js';
import { mintJoinToken } from './join-token.js';
import { closeOpened, JOB, opened, P, rawUpgrade, startPs, TOKEN } from './testing/live-server.js';
import { WebSocket } from './ws.js';

// ws's client class has the members of a browser's WebSocket that connectBrowser uses, and masks
// its frames with random keys as browsers do.
const PageSocket = WebSocket as unknown as BrowserSocketClass;

afterEach(closeOpened);

const pageConnect = (url: string, joinToken: string) =>
  connectBrowser(url, {
    role: 'worker',
    jobId: JOB,
    joinToken,
    name: 'browser-1',
    peerRole: 'ps',
    validateOptions: { paramCount: P },
    WebSocket: PageSocket,
    log: () => undefined,
  });

describe('connectBrowser', () => {
  it('joins with a join token in the query and exchanges frames masked with random keys', async () => {
    const { server, accepted } = await startPs();
    const connection = await pageConnect(server.url, mintJoinToken(TOKEN, JOB));
    opened.push(connection);
    const params = await connection.request({ type: 'pull', step: 2 });
    expect([params.step, [...params.values]]).toEqual([2, new Array(P).fill(0.5)]);
    const grads = Float32Array.from({ length: P }, (_, i) => i / 8);
    const ack = await connection.request({ type: 'push', step: 2, microBatchId: 0, version: 1, generation: 0, offset: 0, grads, loss: 1, samples: 2 });
    expect(ack.status).toBe('accepted');
    expect(accepted[0]!.peer).toMatchObject({ role: 'worker', name: 'browser-1', joined: true });
  });

  it('is refused before the WebSocket opens with a wrong, expired or foreign token, and says what to check', async () => {
    const { server, accepted, log } = await startPs();
    const identity = { role: 'worker' as const, jobId: JOB, maxPayload: 1 << 20 };
    const tokens = {
      wrong: mintJoinToken('another-job-secret-0123456', JOB),
      expired: mintJoinToken(TOKEN, JOB, { ttlMs: 1_000, now: Date.now() - 10_000 }),
      foreign: mintJoinToken(TOKEN, 'another-job'),
    };
    for (const token of Object.values(tokens)) {
      await expect(pageConnect(server.url, token)).rejects.toThrow(
        /E_CONNECT: .* refused the connection or cannot be reached .*the join link may have expired/,
      );
      const refused = await rawUpgrade(server, {}, `/${joinQuery(identity, token)}`);
      expect([refused.status, JSON.parse(refused.body).code]).toEqual([401, 'E_AUTH']);
    }
    expect(accepted).toHaveLength(0);
    expect(log.filter((r) => r.event === 'handshake-refused').map((r) => String(r.message).split(';')[0])).toEqual(
      expect.arrayContaining([
        "E_AUTH: the join token was not issued by this job (its signature does not match the job's token)",
        expect.stringMatching(/^E_AUTH: the join token expired at /),
        `E_AUTH: the join token is for job "another-job", this is "${JOB}"`,
      ]),
    );
  });
});
