import { join } from 'node:path';
import { DataError, DataOptionError } from './data-error.js';
import { datasetFormat } from './dataset-format.js';
import { DATASET_NAMES } from './dataset-types.js';
import type { Dataset, DatasetName } from './dataset-types.js';
import { downloadVerified } from './download.js';
import type { DownloadProgress } from './download.js';
import { createDownloadReporter } from './download-reporter.js';
import { IDX_DATASETS } from './idx-catalog.js';
import type { IdxDatasetSpec, IdxRole } from './idx-catalog.js';
import { cacheDirFor, findIdxFiles, searchLocations } from './locate.js';
import type { SearchRoots } from './locate.js';
import { readIdxSplit } from './read-idx-split.js';
import { makeSyntheticDataset } from './synthetic.js';
import type { SyntheticOptions } from './synthetic.js';

export interface LoadDatasetOptions {
  readonly name: DatasetName;
  /** `--data DIR`: searched first, as `DIR/<name>` then `DIR`. */
  readonly dataDir?: string;
  /** Download into the per-user cache when no location holds the files. @default true */
  readonly download?: boolean;
  /** Base URLs tried in order for each file (`<base><file name>`). @default the data set's official location(s) */
  readonly baseUrls?: readonly string[];
  /** Expected SHA-256 of downloads, by file name. @default the published checksums */
  readonly checksums?: Readonly<Record<string, string>>;
  /** Download progress. @default a bar on stderr when it is a terminal, plain lines otherwise */
  readonly onProgress?: (progress: DownloadProgress) => void;
  /** Environment, home and system directories the search uses (for tests). @default this process's */
  readonly roots?: SearchRoots;
  /** Settings of the generated set (`name: 'synthetic'`). */
  readonly synthetic?: SyntheticOptions;
}

/**
 * Loads a data set the way `keras.datasets.fashion_mnist.load_data()` users expect: found locally
 * if it is anywhere usual, otherwise downloaded once into a cache.
 *
 * For the IDX sets (fashion-mnist, mnist) the first directory holding all four files (gzipped or
 * plain) wins, in this order: `dataDir` (the `--data` flag), `$DPTRAIN_DATA`, the per-user cache
 * (`$XDG_CACHE_HOME/dptrain/<name>` or `~/.cache/dptrain/<name>`), the system package's directory
 * (`/usr/share/datasets/fashion-mnist`, Debian package `dataset-fashion-mnist`). Failing all, the
 * missing files are downloaded into the cache, each checked against its published SHA-256 and
 * renamed into place only when whole. Files that are found but damaged are an error, never skipped.
 *
 * @throws {DataError} E_DATA_NOT_FOUND (offline or download off, naming every fix), E_DATA_CHECKSUM,
 *   or an E_IDX_* code naming the damaged file.
 * @throws {DataOptionError} an unknown name or bad synthetic option.
 */
export async function loadDataset(options: LoadDatasetOptions): Promise<Dataset> {
  const name = parseDatasetName(options.name);
  if (name === 'synthetic') return makeSyntheticDataset(options.synthetic);
  const spec = IDX_DATASETS[name];
  const roots = options.roots ?? {};
  const looked: string[] = [];
  for (const location of searchLocations(spec, options.dataDir, roots)) {
    const { found, missing } = await findIdxFiles(location.dir, spec);
    if (missing.length === 0) return readIdxDataset(spec, found, location.dir, roots);
    looked.push(
      `${location.dir} (${location.origin}${missing.length < spec.files.length ? `; lacks ${missing.map((role) => fileName(spec, role)).join(', ')}` : ''})`,
    );
  }
  const cacheDir = cacheDirFor(spec.name, roots);
  if (options.download === false) throw notFound(spec, cacheDir, looked, 'downloading is off');
  const onProgress = options.onProgress ?? createDownloadReporter();
  const { missing } = await findIdxFiles(cacheDir, spec);
  for (const role of missing) {
    const file = spec.files.find((f) => f.role === role)!;
    try {
      await downloadVerified({
        urls: (options.baseUrls ?? spec.mirrors).map((base) => base + file.name),
        dest: join(cacheDir, file.name),
        sha256: options.checksums?.[file.name] ?? file.sha256,
        onProgress,
      });
    } catch (error) {
      if (error instanceof DataError && error.code === 'E_DATA_DOWNLOAD') throw notFound(spec, cacheDir, looked, error.message, error);
      throw error;
    }
  }
  const { found } = await findIdxFiles(cacheDir, spec);
  return readIdxDataset(spec, found, cacheDir, roots);
}

/**
 * Checks a `--dataset` value.
 * @throws {DataOptionError} naming the value and the accepted names.
 */
export function parseDatasetName(value: string): DatasetName {
  if ((DATASET_NAMES as readonly string[]).includes(value)) return value as DatasetName;
  throw new DataOptionError('E_DATA_OPTION', 'name', value, `unknown data set "${value}"; use one of ${DATASET_NAMES.join(', ')} (flag --dataset)`);
}

async function readIdxDataset(spec: IdxDatasetSpec, files: ReadonlyMap<IdxRole, string>, dir: string, roots: SearchRoots): Promise<Dataset> {
  // Gzipped files are inflated once per machine, into the per-user cache (unpacked-copy.ts).
  const options = { unpackedDir: join(cacheDirFor(spec.name, roots), 'unpacked') };
  const [train, test] = await Promise.all([
    readIdxSplit(files.get('trainImages')!, files.get('trainLabels')!, spec, options),
    readIdxSplit(files.get('testImages')!, files.get('testLabels')!, spec, options),
  ]);
  const { inputShape, numClasses } = datasetFormat(spec.name);
  return { name: spec.name, inputShape, numClasses, classNames: spec.classNames, train, test, source: dir };
}

function notFound(spec: IdxDatasetSpec, cacheDir: string, looked: readonly string[], why: string, cause?: unknown): DataError {
  const fixes = [
    ...(spec.aptPackage === undefined ? [] : [`install the Debian package (apt-get install ${spec.aptPackage})`]),
    `pass --data DIR (or set DPTRAIN_DATA) pointing to a folder with ${spec.files.map((f) => f.name).join(', ')}`,
    `copy those files into ${cacheDir}`,
  ];
  return new DataError(
    'E_DATA_NOT_FOUND',
    `${spec.title} not found and not downloadable (${why}). Looked in: ${looked.join(', ')}. To fix: ${fixes.join('; or ')}.`,
    { path: cacheDir, cause },
  );
}

function fileName(spec: IdxDatasetSpec, role: IdxRole): string {
  return spec.files.find((f) => f.role === role)!.name;
}
