import { readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

// CommonJS whose typings claim an ES default export: require gives the function itself.
const dockerignore = createRequire(import.meta.url)('@balena/dockerignore') as typeof import('@balena/dockerignore').default;

export const REPO = fileURLToPath(new URL('../..', import.meta.url));

// Walking these would take seconds; the tests ask the matcher about them by name instead.
const NOT_WALKED = new Set(['node_modules', '.git', '.nx']);

/**
 * The files of the repository that `docker build .` sends with docker/Dockerfile, decided by
 * .dockerignore through @balena/dockerignore: the matcher testcontainers packs its build
 * context with (testcontainers' own dependency, so it is exactly the one the container test uses).
 */
export function buildContext(): { readonly files: string[]; readonly ignores: (path: string) => boolean } {
  const matcher = dockerignore({ ignorecase: false }).add(readFileSync(join(REPO, '.dockerignore'), 'utf8'));
  const files: string[] = [];
  const walk = (dir: string): void => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) {
        if (!NOT_WALKED.has(entry.name)) walk(path);
      } else {
        files.push(relative(REPO, path));
      }
    }
  };
  walk(REPO);
  return { files: matcher.filter(files).sort(), ignores: (path) => matcher.ignores(path) };
}

/** The directories of the root package.json's workspaces (globs of the form `dir/*` or plain paths). */
export function workspaceDirs(): string[] {
  const { workspaces } = JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')) as { workspaces: string[] };
  return workspaces.flatMap((pattern) => {
    if (!pattern.endsWith('/*')) return [pattern];
    const parent = pattern.slice(0, -2);
    return readdirSync(join(REPO, parent), { withFileTypes: true })
      .filter((e) => e.isDirectory() && readdirSync(join(REPO, parent, e.name)).includes('package.json'))
      .map((e) => `${parent}/${e.name}`);
  });
}
