import { request as httpRequest } from 'node:http';
import { connect, type ConnectOptions } from '../client.js';
import type { Connection } from '../connection.js';
import { ProtocolError } from '../errors.js';
import { requestHeaders } from '../handshake.js';
import type { LogRecord } from '@dptrain/log';
import { createServer, type ProtocolServer, type ServerOptions } from '../server.js';

// A live server and clients on loopback for this library's own tests (server.test.ts and
// server-limits.test.ts): a shard-like server answering pulls and pushes, and what each test opened.

export const TOKEN = 'correct horse battery staple';
export const JOB = 'job-42';
export const P = 8;

export const opened: { close(): unknown }[] = [];
/** Closes what the test opened, newest first; for afterEach. */
export async function closeOpened(): Promise<void> {
  for (const item of opened.splice(0).reverse()) await item.close();
}

/** A shard-like server: pulls get `replyLength` parameters (validated against a model of that many), pushes an ack. */
export async function startPs(extra: Partial<ServerOptions> = {}, replyLength = P) {
  const log: LogRecord[] = [];
  const accepted: Connection[] = [];
  const server = await createServer({
    token: TOKEN,
    jobId: JOB,
    role: 'ps',
    name: 'ps-0',
    validateOptions: { paramCount: replyLength },
    log: (record) => log.push(record),
    onConnection: (connection) => {
      accepted.push(connection);
      connection.on('message', (msg) => {
        if (msg.type === 'pull') {
          void connection.reply(msg, { type: 'params', version: 1, step: msg.step ?? 0, offset: 0, values: new Float32Array(replyLength).fill(0.5) });
        } else if (msg.type === 'push') {
          void connection.reply(msg, { type: 'pushAck', step: msg.step, microBatchId: msg.microBatchId, status: 'accepted' });
        }
      });
    },
    ...extra,
  });
  opened.push(server);
  return { server, log, accepted };
}

export async function connectTo(server: ProtocolServer, extra: Partial<ConnectOptions> = {}): Promise<Connection> {
  const connection = await connect(server.url, {
    token: TOKEN,
    jobId: JOB,
    role: 'worker',
    name: 'worker-1',
    validateOptions: { paramCount: P },
    log: () => undefined,
    ...extra,
  });
  opened.push(connection);
  return connection;
}

/** An upgrade request with the given headers, for refusals the official client cannot produce. */
export function rawUpgrade(server: ProtocolServer, headers: Record<string, string>, path = '/'): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({
      host: server.host,
      port: server.port,
      path,
      headers: {
        connection: 'Upgrade',
        upgrade: 'websocket',
        'sec-websocket-key': Buffer.from('0123456789abcdef').toString('base64'),
        'sec-websocket-version': '13',
        ...headers,
      },
    });
    req.on('response', (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('upgrade', (_res, socket) => {
      socket.destroy();
      reject(new Error('the upgrade was accepted'));
    });
    req.on('error', reject);
    req.end();
  });
}

export const workerHeaders = (overrides: Record<string, string> = {}) => ({
  ...requestHeaders({ role: 'worker', jobId: JOB, maxPayload: 1 << 20 }, TOKEN),
  ...overrides,
});

export async function refusalOf(promise: Promise<unknown>): Promise<ProtocolError> {
  const error = await promise.then(
    () => new Error('connected'),
    (e: unknown) => e,
  );
  if (!(error instanceof ProtocolError)) throw error;
  return error;
}
