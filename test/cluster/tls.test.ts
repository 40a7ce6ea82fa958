import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { freePort, LiveRoles, ready } from '../cli/live-roles.js';
import { runCli } from '../cli/run-cli.js';
import { smallJob } from '../small-job.js';

// A cluster over wss:// as docs/SECURITY.md has it for several hosts: coordinator and shard serve
// TLS with a self-signed certificate (--tls-cert, --tls-key), shard and workers trust it
// (--tls-ca); the job ends with the bits of dptrain train.

const JOB = smallJob(['--steps', '30', '--optimizer', 'adam'], 16);
const ENV = { ...process.env, DPTRAIN_TOKEN: 'tls-test-token-000001', DPTRAIN_JOB: 'tls-test', DPTRAIN_LOG_LEVEL: 'error' };
const dir = mkdtempSync(join(tmpdir(), 'tls-cluster-'));
const [cert, key] = [join(dir, 'cert.pem'), join(dir, 'key.pem')];
execFileSync(
  'openssl',
  [
    'req',
    '-x509',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-keyout',
    key,
    '-out',
    cert,
    '-days',
    '1',
    '-subj',
    '/CN=127.0.0.1',
    '-addext',
    'subjectAltName=IP:127.0.0.1',
  ],
  { stdio: 'ignore' },
);
const roles = new LiveRoles(ENV);
afterAll(() => roles.killAll());

describe('a cluster over TLS', () => {
  it('trains over wss:// with a self-signed certificate to the bits of dptrain train', async () => {
    const reference = runCli(['train', ...JOB, '--out', join(dir, 'reference')], ENV);
    const [port, psPort] = [await freePort(), await freePort()];
    const url = `wss://127.0.0.1:${port}/`;
    const ca = readFileSync(cert);
    const tls = ['--tls-cert', cert, '--tls-key', key];
    const coordinator = roles.start([
      'coordinator',
      ...JOB,
      '--workers',
      '2',
      '--out',
      join(dir, 'cluster'),
      '--host',
      '127.0.0.1',
      '--port',
      String(port),
      ...tls,
    ]);
    await ready(url, ENV, ca);
    roles.start([
      'ps',
      '--coordinator',
      url,
      '--host',
      '127.0.0.1',
      '--port',
      String(psPort),
      '--checkpoint-dir',
      join(dir, 'checkpoints'),
      ...tls,
      '--tls-ca',
      cert,
    ]);
    await ready(`wss://127.0.0.1:${psPort}/`, ENV, ca);
    for (const name of ['worker-0', 'worker-1']) roles.start(['worker', '--coordinator', url, '--backend', 'cpu', '--name', name, '--tls-ca', cert]);
    const code = await new Promise<number | null>((resolve) => coordinator.once('exit', resolve));
    expect(code).toBe(0);
    expect((await reference).code).toBe(0);
    expect(readFileSync(join(dir, 'cluster', 'params.safetensors')).equals(readFileSync(join(dir, 'reference', 'params.safetensors')))).toBe(true);
  });
});
