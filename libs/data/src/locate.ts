import { stat } from 'node:fs/promises';
import { homedir } from 'node:os';
import { isAbsolute, join } from 'node:path';
import type { IdxDatasetSpec, IdxRole } from './idx-catalog.js';

/** Where the search for a data set looks; every field is injectable so tests need not touch this machine. */
export interface SearchRoots {
  /** Environment read for `DPTRAIN_DATA` and `XDG_CACHE_HOME`. @default process.env */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** Home directory under which the default cache lives. @default os.homedir() */
  readonly homeDir?: string;
  /** Directories an operating-system package installs into. @default the data set's (e.g. /usr/share/datasets/fashion-mnist) */
  readonly systemDirs?: readonly string[];
}

export type LocationOrigin = 'flag --data' | 'env DPTRAIN_DATA' | 'cache' | 'system package';

export interface SearchLocation {
  readonly dir: string;
  readonly origin: LocationOrigin;
}

/**
 * The per-user download cache of a data set: `$XDG_CACHE_HOME/dptrain/<name>` when XDG_CACHE_HOME
 * is an absolute path (the XDG spec says to ignore relative ones), else `~/.cache/dptrain/<name>`.
 */
export function cacheDirFor(name: string, roots: SearchRoots = {}): string {
  const env = roots.env ?? process.env;
  const xdg = env.XDG_CACHE_HOME;
  const base = xdg !== undefined && xdg !== '' && isAbsolute(xdg) ? xdg : join(roots.homeDir ?? homedir(), '.cache');
  return join(base, 'dptrain', name);
}

/**
 * The directories searched, first match wins: `--data DIR` (as `DIR/<name>`, then `DIR`), then
 * `$DPTRAIN_DATA` (the same two forms), then the per-user cache, then the system package's
 * directories.
 */
export function searchLocations(spec: IdxDatasetSpec, dataDir: string | undefined, roots: SearchRoots = {}): SearchLocation[] {
  const env = roots.env ?? process.env;
  const locations: SearchLocation[] = [];
  const addRoot = (dir: string | undefined, origin: LocationOrigin): void => {
    if (dir === undefined || dir === '') return;
    locations.push({ dir: join(dir, spec.name), origin }, { dir, origin });
  };
  addRoot(dataDir, 'flag --data');
  addRoot(env.DPTRAIN_DATA, 'env DPTRAIN_DATA');
  locations.push({ dir: cacheDirFor(spec.name, roots), origin: 'cache' });
  for (const dir of roots.systemDirs ?? spec.systemDirs) locations.push({ dir, origin: 'system package' });
  return locations;
}

/** The data set's files found in `dir` (gzipped name first, then the plain name), and the roles missing. */
export async function findIdxFiles(
  dir: string,
  spec: IdxDatasetSpec,
): Promise<{ readonly found: ReadonlyMap<IdxRole, string>; readonly missing: readonly IdxRole[] }> {
  const found = new Map<IdxRole, string>();
  const missing: IdxRole[] = [];
  for (const file of spec.files) {
    const candidates = [join(dir, file.name), join(dir, file.name.replace(/\.gz$/, ''))];
    let hit: string | undefined;
    for (const candidate of candidates) {
      if (await exists(candidate)) {
        hit = candidate;
        break;
      }
    }
    if (hit === undefined) missing.push(file.role);
    else found.set(file.role, hit);
  }
  return { found, missing };
}

async function exists(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isFile();
  } catch {
    return false;
  }
}
