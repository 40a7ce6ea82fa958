import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { buildContext, REPO, workspaceDirs } from './build-context.js';
import { aptPackages, readDockerfile, updatesBeforeInstall, type Stage } from './dockerfile-model.js';

// What can be known about the image without a Docker engine: its install steps against .ci/run's,
// its base, its user and entry point, the build context, and the manifests stage run for real.

const stages = readDockerfile(join(REPO, 'docker/Dockerfile'));
const runtime = stages.at(-1)!;
const ciScript = readFileSync(join(REPO, '.ci/run'), 'utf8')
  .split('\n')
  .filter((l) => !l.trim().startsWith('#'))
  .join('\n');

const runs = (stage: Stage): string[] => stage.instructions.filter((i) => i.keyword === 'RUN').map((i) => i.args);
const workdir = (stage: Stage): string => stage.instructions.filter((i) => i.keyword === 'WORKDIR').at(-1)!.args;

describe('docker/Dockerfile against .ci/run', () => {
  it('installs every Debian package .ci/run installs, and explains each one beyond them', () => {
    const ci = aptPackages(ciScript);
    expect(ci.length).toBeGreaterThan(0);
    const image = runtime.instructions.filter((i) => i.keyword === 'RUN' && aptPackages(i.args).length > 0);
    const installed = image.flatMap((i) => aptPackages(i.args));
    expect(ci.filter((p) => !installed.includes(p))).toEqual([]);
    const unexplained = image.flatMap((i) => aptPackages(i.args).filter((p) => !ci.includes(p) && !i.comment.includes(`${p}:`)));
    expect(unexplained).toEqual([]);
  });

  it('refreshes the package lists in the same step as every install, as .ci/run does', () => {
    expect(updatesBeforeInstall(ciScript)).toBe(true);
    const installs = stages.flatMap(runs).filter((r) => r.includes('apt-get install'));
    expect(installs.length).toBeGreaterThan(0);
    expect(installs.filter((r) => !updatesBeforeInstall(r))).toEqual([]);
  });

  it('installs the npm dependencies with npm ci, as .ci/run does, and the final stage takes them from there', () => {
    expect(ciScript).toMatch(/\bnpm ci\b/);
    const npmStages = stages.filter((s) => runs(s).some((r) => /\bnpm (ci|install|i)\b/.test(r)));
    expect(
      npmStages.map((s) =>
        runs(s)
          .filter((r) => /\bnpm (ci|install|i)\b/.test(r))
          .map((r) => r.match(/\bnpm \w+/)![0]),
      ),
    ).toEqual([['npm ci']]);
    const copies = runtime.instructions.filter((i) => i.keyword === 'COPY').map((i) => i.args);
    expect(copies.some((c) => c.includes(`--from=${npmStages[0]!.name}`))).toBe(true);
  });
});

describe('docker/Dockerfile', () => {
  it('builds every stage on one Debian Node image of the engines major, on the Debian release CI installs from', () => {
    const bases = new Set(stages.map((s) => s.base));
    expect(bases.size).toBe(1);
    const [base] = [...bases];
    const match = /^node:(\d+)-(\w+)-slim$/.exec(base!);
    expect(match, `base image ${base}`).not.toBeNull();
    const { engines } = JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')) as { engines: { node: string } };
    expect(match![1]).toBe(/\d+/.exec(engines.node)![0]);
    // The apt packages of .ci/run are this machine's Debian's; the image must come from the same release.
    if (existsSync('/etc/os-release')) {
      const codename = /^VERSION_CODENAME=(\w+)/m.exec(readFileSync('/etc/os-release', 'utf8'))?.[1];
      if (codename) expect(match![2]).toBe(codename);
    }
  });

  it('runs dptrain as a non-root user, through an init that forwards signals', () => {
    const user = runtime.instructions.filter((i) => i.keyword === 'USER').at(-1)?.args;
    expect(user).toBeDefined();
    expect(['root', '0']).not.toContain(user!.split(':')[0]);
    const entrypoint = JSON.parse(runtime.instructions.find((i) => i.keyword === 'ENTRYPOINT')!.args) as string[];
    const script = entrypoint.find((a) => a.endsWith('dptrain.js'))!;
    const { bin } = JSON.parse(readFileSync(join(REPO, 'apps/cli/package.json'), 'utf8')) as { bin: { dptrain: string } };
    expect(relative(workdir(runtime), script)).toBe(join('apps/cli', bin.dptrain));
    expect(aptPackages(runs(runtime).join('\n'))).toContain(entrypoint[0]!.split('/').at(-1));
  });

  it('sends every file the image needs in the build context, and no secret, dependency or test', () => {
    const { files, ignores } = buildContext();
    const manifests = ['package.json', 'package-lock.json', ...workspaceDirs().map((d) => `${d}/package.json`)];
    const sources = files.filter((f) => /^(apps|libs)\/[^/]+\/src\/.*\.ts$/.test(f));
    expect(manifests.filter((f) => !files.includes(f))).toEqual([]);
    expect(['apps/cli/bin/dptrain.js', 'docker/healthcheck.mjs', 'tsconfig.base.json'].filter((f) => !files.includes(f))).toEqual([]);
    expect(sources.length).toBeGreaterThan(50);
    const secrets = [
      'docker/token.env',
      'docker/k8s/token.env',
      'node_modules/tsx/package.json',
      'libs/config/node_modules/yaml/package.json',
      '.git/HEAD',
      'runs/latest/summary.json',
    ];
    expect(secrets.filter((f) => !ignores(f))).toEqual([]);
    expect(files.filter((f) => f.endsWith('.test.ts') || f.startsWith('test/') || f.startsWith('bench/')).filter((f) => !manifests.includes(f))).toEqual([]);
  });

  it('keeps exactly the package manifests and bin scripts in its manifests stage (its RUN, run here)', () => {
    const stage = stages.find((s) => s.name === 'manifests')!;
    const dir = mkdtempSync(join(tmpdir(), 'manifests-'));
    for (const file of buildContext().files) {
      mkdirSync(dirname(join(dir, file)), { recursive: true });
      cpSync(join(REPO, file), join(dir, file));
    }
    for (const command of runs(stage)) execFileSync('sh', ['-c', command], { cwd: dir });
    const kept: string[] = [];
    const walk = (d: string): void => {
      for (const e of readdirSync(d, { withFileTypes: true })) (e.isDirectory() ? walk : (p: string) => kept.push(relative(dir, p)))(join(d, e.name));
    };
    walk(dir);
    const bins = workspaceDirs().flatMap((d) => {
      const { bin } = JSON.parse(readFileSync(join(REPO, d, 'package.json'), 'utf8')) as { bin?: Record<string, string> };
      return Object.values(bin ?? {}).map((b) => join(d, b));
    });
    const expected = ['package.json', 'package-lock.json', ...workspaceDirs().map((d) => `${d}/package.json`), ...bins];
    expect(kept.sort()).toEqual(expected.sort());
  });
});
