import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { FLAGS, RESERVED_ENV } from '@dptrain/config';
import { describe, expect, it } from 'vitest';
import { REPO } from './build-context.js';
import { declaredEnv, processWideEnv, ROLES } from './role-env.js';

/** The non-test TypeScript sources of the apps and libraries, and the apps' bin scripts. */
function sources(): string {
  const texts: string[] = [];
  const walk = (dir: string): void => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, e.name);
      if (e.isDirectory() && e.name !== 'node_modules') walk(path);
      else if (/\.(ts|js)$/.test(e.name) && !e.name.endsWith('.test.ts')) texts.push(readFileSync(path, 'utf8'));
    }
  };
  for (const top of ['apps', 'libs']) for (const p of readdirSync(join(REPO, top))) walk(join(REPO, top, p, 'src'));
  for (const app of readdirSync(join(REPO, 'apps'))) walk(join(REPO, 'apps', app, 'bin'));
  return texts.join('\n');
}

describe('the DPTRAIN_ variables the roles read', () => {
  it('are all in the catalog of @dptrain/config: job keys, --config, and the reserved names', async () => {
    const known = new Set([...FLAGS.flatMap((f) => (f.env ? [f.env] : [])), ...Object.keys(RESERVED_ENV)]);
    const declared = await Promise.all(ROLES.map(declaredEnv));
    expect(ROLES.map((role, i) => ({ role, unknown: [...declared[i]!].filter((n) => !known.has(n)) }))).toEqual(ROLES.map((role) => ({ role, unknown: [] })));
  });

  it('include, for every role, the process-wide ones the sources read by name', async () => {
    const code = sources();
    const wide = await processWideEnv();
    expect(wide).toContain('DPTRAIN_TOKEN');
    // A catalog entry no source reads (as `env.NAME`) would let a compose file set a variable that does nothing.
    expect(wide.filter((name) => !new RegExp(`\\benv\\.${name}\\b`).test(code))).toEqual([]);
  });

  it('give the job keys to the roles that resolve a job and the connection options to the others', async () => {
    const [coordinator, ps, worker] = await Promise.all(ROLES.map(declaredEnv));
    expect(coordinator.has('DPTRAIN_BATCH_SIZE') && coordinator.has('DPTRAIN_CONFIG') && coordinator.has('DPTRAIN_PORT')).toBe(true);
    // DPTRAIN_CHECKPOINT_DIR is also the job key checkpointDir's variable, with the same meaning.
    expect([...ps].sort()).toEqual([
      'DPTRAIN_CHECKPOINT_DIR',
      'DPTRAIN_COORDINATOR',
      'DPTRAIN_HOST',
      'DPTRAIN_METRICS_FILE',
      'DPTRAIN_NAME',
      'DPTRAIN_PORT',
      'DPTRAIN_SHARD',
      'DPTRAIN_TLS_CA',
      'DPTRAIN_TLS_CERT',
      'DPTRAIN_TLS_KEY',
      'DPTRAIN_TRACE',
    ]);
    // A worker serves a shard too with --shard (the co-located layout): the shard's settings are a ps's.
    expect([...worker].sort()).toEqual([
      'DPTRAIN_BACKEND',
      'DPTRAIN_CHECKPOINT_DIR',
      'DPTRAIN_COORDINATOR',
      'DPTRAIN_HOST',
      'DPTRAIN_METRICS_FILE',
      'DPTRAIN_METRICS_HOST',
      'DPTRAIN_METRICS_PORT',
      'DPTRAIN_NAME',
      'DPTRAIN_PORT',
      'DPTRAIN_SHARD',
      'DPTRAIN_TLS_CA',
      'DPTRAIN_TLS_CERT',
      'DPTRAIN_TLS_KEY',
      'DPTRAIN_TRACE',
      'DPTRAIN_WORKER_ID',
    ]);
  });
});
