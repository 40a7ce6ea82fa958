import { mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { heavy, runTraced } from './traced-cli.js';

// Mistakes a user makes at start-up are reported before TensorFlow.js or the data set load
// (seconds), and leave no run folder behind.

const TOKEN = { DPTRAIN_TOKEN: 'fail-fast-test-token-0123456789' };
let busy: Server;
let busyPort: number;

beforeAll(async () => {
  busy = createServer();
  await new Promise<void>((resolve) => busy.listen(0, '127.0.0.1', resolve));
  busyPort = (busy.address() as { port: number }).port;
});
afterAll(() => new Promise<void>((resolve) => busy.close(() => resolve())));

describe('start-up mistakes fail before anything heavy loads', () => {
  it('names the cause and the fix, exits 1, loads no TensorFlow.js and writes no run folder', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'fail-fast-'));
    const used = join(dir, 'used');
    const usedRun = await runTraced(['train', '--dataset', 'synthetic', '--steps', '1', '--out', used]);
    expect(usedRun.code).toBe(0);
    writeFileSync(join(dir, 'not-a-cert.pem'), '');
    const cases: [string[], NodeJS.ProcessEnv, RegExp][] = [
      [
        ['coordinator', '--port', String(busyPort), '--out', join(dir, 'a')],
        TOKEN,
        new RegExp(`127\\.0\\.0\\.1:${busyPort} is already in use.*give another --port`),
      ],
      [['ps', '--coordinator', 'ws://127.0.0.1:9/', '--port', String(busyPort)], TOKEN, /already in use/],
      [['coordinator', '--port', '0', '--out', join(dir, 'b')], { DPTRAIN_TOKEN: '' }, /no shared token.*export DPTRAIN_TOKEN=/],
      [['worker', '--coordinator', 'ws://127.0.0.1:9/'], { DPTRAIN_TOKEN: 'short' }, /fewer than \d+: too easy to guess/],
      [
        ['coordinator', '--port', '0', '--out', join(dir, 'c'), '--tls-cert', join(dir, 'missing.pem'), '--tls-key', join(dir, 'not-a-cert.pem')],
        TOKEN,
        /--tls-cert .*missing\.pem cannot be read \(ENOENT\)/,
      ],
      [['coordinator', '--port', '0', '--out', used], TOKEN, /is not empty .*--resume .*--force/],
      [['local', '--out', used], {}, /is not empty/],
      [['train', '--out', used], {}, /is not empty/],
    ];
    const runs = await Promise.all(cases.map(([args, env]) => runTraced(args, env)));
    runs.forEach((run, i) => {
      const [args, , message] = cases[i]!;
      expect({ args, code: run.code, stderr: run.stderr }).toEqual({ args, code: 1, stderr: expect.stringMatching(message) });
      expect({ args, heavy: heavy(run.imports) }).toEqual({ args, heavy: [] });
    });
    // The trace works: the successful run above did load TensorFlow.js.
    expect(heavy(usedRun.imports).length).toBeGreaterThan(0);
    expect(readdirSync(dir).sort()).toEqual(['not-a-cert.pem', 'used']);
  });
});
