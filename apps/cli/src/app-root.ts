import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The directory of apps/cli, found from this module whether it runs as a source file
 * (apps/cli/src) or inside the bundle (apps/cli/dist/<build>): the nearest directory above that
 * holds a package.json. Files the command ships beside its code (the dashboard's page, the bin
 * script, package.json) are found from here, never relative to a module's own URL.
 */
function findAppRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json'))) {
    const parent = dirname(dir);
    if (parent === dir) throw new Error(`no package.json above ${fileURLToPath(import.meta.url)}: the dptrain command is not installed whole`);
    dir = parent;
  }
  return dir;
}

export const APP_ROOT = findAppRoot();

/** The command's own entry script, for starting dptrain child processes. */
export const BIN = join(APP_ROOT, 'bin', 'dptrain.js');
