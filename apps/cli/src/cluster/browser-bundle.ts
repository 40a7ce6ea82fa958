import { builtinModules } from 'node:module';
import { join } from 'node:path';
import { APP_ROOT } from '../app-root.js';

/** The browser worker's sources (page.ts and what it imports), shipped beside the command. */
export const BROWSER_WORKER_DIR = join(APP_ROOT, 'src', 'browser-worker');

/**
 * Node modules the worker's code imports that a page has an equivalent of: `events` is the npm
 * package of Node's EventEmitter, the timers shim waits with the page's setTimeout.
 */
const ALIASES = {
  'node:events': 'events',
  'node:timers/promises': join(BROWSER_WORKER_DIR, 'shims', 'timers-promises.ts'),
};

/**
 * Builds the browser worker (page.ts with @dptrain/cluster's Worker, @dptrain/model and
 * TensorFlow.js) into one ES module, in memory: about a second, once per coordinator process.
 * Everything Node-only the libraries hold (servers, files, the ws package) is left out by tree
 * shaking (the libraries declare no side effects); what would still reach the page is an error.
 * @throws Error naming the Node modules the bundle still imports
 */
export async function buildBrowserWorker(): Promise<string> {
  const { build, stop } = await import('esbuild');
  // esbuild's service process is not kept for the coordinator's lifetime: one build is all it serves.
  const result = await build({
    entryPoints: [join(BROWSER_WORKER_DIR, 'page.ts')],
    bundle: true,
    write: false,
    format: 'esm',
    platform: 'browser',
    target: 'chrome110',
    minify: true,
    legalComments: 'none',
    logLevel: 'silent',
    metafile: true,
    alias: ALIASES,
    // The worker reports its pid when it registers; a page has none.
    define: { 'process.pid': '0' },
    // Left unresolved for tree shaking to drop (checked below): Node's modules, by either name, and Node-only packages.
    external: ['node:*', ...builtinModules.filter((name) => name !== 'events'), 'ws', 'bufferutil', 'utf-8-validate', '@tensorflow/tfjs-node'],
  }).finally(() => stop());
  const code = result.outputFiles[0]!.text;
  // Node's modules may stay behind guards that run only in Node (the wasm backend's loader has
  // some); an import statement would stop the page from loading at all.
  const imported = Object.values(result.metafile.outputs).flatMap((output) =>
    output.imports.filter((i) => i.external && i.kind !== 'require-call').map((i) => i.path),
  );
  if (imported.length > 0) {
    throw new Error(
      `the browser worker's bundle imports ${[...new Set(imported)].join(', ')}: a module on the page's path uses Node; keep such code out of it`,
    );
  }
  return code;
}
