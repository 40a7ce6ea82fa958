// The command's JavaScript bundle: the TypeScript sources of apps/cli and every @dptrain library,
// built by esbuild into apps/cli/dist/<id>/ and rebuilt when a source it was built from changes.
//
// Why: running the sources through tsx's loader costs every process a loader thread and a hook
// round trip per module, and `dptrain local` starts four processes at once on two cores. The
// bundle is plain ESM that Node loads by itself; it is split at the sources' dynamic imports,
// so a worker loads no plotting and no experiment code. npm packages stay external (loaded from
// node_modules as before), except the few TensorFlow.js gradient files that libs/model imports
// by path: their own imports have no file extensions, which only a bundler resolves.
//
// `bundledEntry()` answers the entry file to import, or undefined when the sources must run
// through tsx: DPTRAIN_BUNDLE=0, or the bundle cannot be written (a read-only install whose image
// did not build it). Several processes may build at once (a test suite, `dptrain local`): each
// writes its own directory and the pointer file is replaced atomically, so any reader sees one
// complete bundle.
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';

const APP = fileURLToPath(new URL('..', import.meta.url));
const REPO = resolve(APP, '../..');
const DIST = join(APP, 'dist');
const POINTER = join(DIST, 'current.json');
/** Older builds kept for processes still running from them (their lazy chunks load late). */
const KEEP = 4;
const KEEP_MS = 3_600_000;
const STALE_LOCK_MS = 60_000;
const GRADIENTS = '@tensorflow/tfjs-core/dist/gradients/';

/** The pointer's build when every input still has the size and mtime it was built from. */
function freshBuild() {
  let pointer;
  try {
    pointer = JSON.parse(readFileSync(POINTER, 'utf8'));
  } catch {
    return undefined;
  }
  for (const [file, [size, mtimeMs]] of Object.entries(pointer.inputs)) {
    try {
      const stat = statSync(join(REPO, file));
      if (stat.size !== size || stat.mtimeMs !== mtimeMs) return undefined;
    } catch {
      return undefined;
    }
  }
  // A build deleted by hand (the pointer outlives it) is built again.
  const entry = join(DIST, pointer.dir, 'main.mjs');
  return existsSync(entry) ? entry : undefined;
}

/**
 * Files that shape the build without being its sources: the packages' manifests (their exports and
 * sideEffects, which decide what a chunk holds) and this script.
 */
function settingsFiles() {
  const libs = readdirSync(join(REPO, 'libs')).map((name) => `libs/${name}/package.json`);
  return [...libs.filter((file) => existsSync(join(REPO, file))), 'apps/cli/package.json', 'apps/cli/bin/bundle.js'];
}

function dropOldBuilds(current) {
  const builds = readdirSync(DIST, { withFileTypes: true })
    .filter((entry) => entry.isDirectory() && entry.name.startsWith('b-') && entry.name !== current)
    .map((entry) => ({ name: entry.name, mtimeMs: statSync(join(DIST, entry.name)).mtimeMs }))
    .sort((a, b) => b.mtimeMs - a.mtimeMs);
  for (const old of builds.slice(KEEP - 1)) {
    if (Date.now() - old.mtimeMs > KEEP_MS) rmSync(join(DIST, old.name), { recursive: true, force: true });
  }
}

/**
 * One builder at a time (mkdir is atomic); the others wait for its pointer. A lock left by a
 * builder that died is taken over once it is older than any build takes.
 */
async function withBuildLock(work) {
  const lock = join(DIST, '.building');
  for (;;) {
    try {
      mkdirSync(lock);
      break;
    } catch (error) {
      if (error.code !== 'EEXIST') throw error;
      const fresh = freshBuild();
      if (fresh) return fresh;
      try {
        if (Date.now() - statSync(lock).mtimeMs > STALE_LOCK_MS) rmSync(lock, { recursive: true, force: true });
      } catch {
        // removed meanwhile by its builder
      }
      await delay(50);
    }
  }
  try {
    return freshBuild() ?? (await work());
  } finally {
    rmSync(lock, { recursive: true, force: true });
  }
}

async function build() {
  const { build: esbuild, stop } = await import('esbuild');
  const dir = `b-${Date.now().toString(36)}-${process.pid}`;
  const result = await esbuild({
    absWorkingDir: REPO,
    // The shard thread of a co-located worker is an entry of its own (a Worker loads it by file).
    entryPoints: [join(APP, 'src/main.ts'), join(APP, 'src/commands/shard-thread.ts')],
    outdir: join(DIST, dir),
    bundle: true,
    splitting: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    entryNames: '[name]',
    chunkNames: 'chunk-[hash]',
    outExtension: { '.js': '.mjs' },
    metafile: true,
    logLevel: 'error',
    plugins: [
      {
        name: 'dptrain-externals',
        setup(builder) {
          builder.onResolve({ filter: /^[^./]/ }, (args) =>
            args.path.startsWith('@dptrain/') || args.path.startsWith(GRADIENTS) ? undefined : { path: args.path, external: true },
          );
        },
      },
    ],
  });
  // esbuild's service process would otherwise outlive this one.
  await stop();
  const inputs = {};
  for (const file of [...Object.keys(result.metafile.inputs), ...settingsFiles()]) {
    const stat = statSync(join(REPO, file));
    inputs[file] = [stat.size, stat.mtimeMs];
  }
  const staged = `${POINTER}.${process.pid}`;
  writeFileSync(staged, JSON.stringify({ dir, inputs }));
  renameSync(staged, POINTER);
  dropOldBuilds(dir);
  return join(DIST, dir, 'main.mjs');
}

export async function bundledEntry() {
  if (process.env.DPTRAIN_BUNDLE === '0') return undefined;
  const fresh = freshBuild();
  if (fresh) return fresh;
  try {
    mkdirSync(DIST, { recursive: true });
    return await withBuildLock(build);
  } catch (error) {
    if (error && (error.code === 'EACCES' || error.code === 'EROFS' || error.code === 'EPERM')) return undefined;
    throw error;
  }
}
