import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { JobConfig } from '@dptrain/config';
import { datasetFormat } from '@dptrain/data';
import { createModel, type Model } from '@dptrain/model';
import { readSafetensors, type SafetensorsFile } from '@dptrain/safetensors';
import { modelConfigOf } from '@dptrain/job';
import { modelTensors } from './param-tensors.js';
import { readRunConfig, RunFolderError, type RunSummary } from './run-folder.js';

/** A finished run's model with its final parameters, ready to evaluate, predict or export. */
export interface RunModel {
  readonly dir: string;
  /** The job, from config.json. */
  readonly config: JobConfig;
  readonly model: Model;
  readonly params: Float32Array;
  readonly bnState: Float32Array;
  /** Index = class; undefined where the data set's classes have no names (synthetic). */
  readonly classNames: readonly string[] | undefined;
  /** summary.json, when the run wrote it. */
  readonly summary: RunSummary | undefined;
  /** The metadata of params.safetensors. */
  readonly metadata: Readonly<Record<string, string>>;
}

const FINISHED_RUN = 'give the folder of a finished run (the --out of dptrain train or dptrain local, e.g. runs/latest)';

/**
 * Loads the model of the run in `dir`: its job (config.json) and the final parameters and
 * batch-norm running statistics (params.safetensors), checked against each other. The model's
 * input shape and classes are the data set's, known without loading the data. Call initBackend
 * before running the model.
 * @throws {RunFolderError} when `dir` is not a run folder, its run has not finished, or its files disagree;
 *   ConfigError when config.json is not a valid job.
 */
export async function loadRunModel(dir: string): Promise<RunModel> {
  const folder = await stat(dir).catch(() => undefined);
  if (!folder) throw new RunFolderError(`${dir} does not exist; ${FINISHED_RUN}`);
  if (!folder.isDirectory()) throw new RunFolderError(`${dir} is a file, not a run folder; ${FINISHED_RUN}`);
  if (!(await exists(join(dir, 'config.json')))) throw new RunFolderError(`${dir} is not a run folder (it has no config.json); ${FINISHED_RUN}`);
  const config = await readRunConfig(dir);
  const path = join(dir, 'params.safetensors');
  if (!(await exists(path))) {
    const command = (await exists(join(dir, 'cluster.json'))) ? 'local' : 'train';
    throw new RunFolderError(
      `${dir} has no params.safetensors: its run has not finished (it is still going, or it stopped before the end); let it finish, or continue it with dptrain ${command} --resume ${dir}, then try again`,
    );
  }
  const file = await readSafetensors(path);
  const { inputShape, numClasses, classNames } = datasetFormat(config.dataset);
  const model = createModel(modelConfigOf(config, inputShape, numClasses));
  const params = new Float32Array(model.paramCount);
  const bnState = model.initBnState();
  const expected = modelTensors(model, params, bnState);
  const problem = mismatch(file, expected);
  if (problem) {
    throw new RunFolderError(
      `${path} does not hold the ${config.model} that ${join(dir, 'config.json')} describes (${problem}); the two files come from different runs: give a folder whose files belong together`,
    );
  }
  for (const [name, view] of expected) (view.data as Float32Array).set(file.tensors.get(name)!.data as Float32Array);
  return { dir, config, model, params, bnState, classNames, summary: await readSummary(join(dir, 'summary.json')), metadata: file.metadata };
}

/** What differs between the file's tensors and the model's (names, shapes, float32), or undefined. */
function mismatch(file: SafetensorsFile, expected: ReturnType<typeof modelTensors>): string | undefined {
  const names = new Set(expected.map(([name]) => name));
  const extra = [...file.tensors.keys()].find((name) => !names.has(name));
  if (extra) return `it has a tensor ${extra} the model does not`;
  for (const [name, { shape }] of expected) {
    const tensor = file.tensors.get(name);
    if (!tensor) return `tensor ${name} is missing`;
    if (tensor.dtype !== 'F32') return `tensor ${name} is ${tensor.dtype}, not F32`;
    if (tensor.shape.join(',') !== shape.join(',')) return `tensor ${name} is [${tensor.shape.join(', ')}], the model's is [${shape.join(', ')}]`;
  }
  return undefined;
}

async function exists(path: string): Promise<boolean> {
  return (await stat(path).catch(() => undefined)) !== undefined;
}

async function readSummary(path: string): Promise<RunSummary | undefined> {
  const text = await readFile(path, 'utf8').catch(() => undefined);
  return text === undefined ? undefined : (JSON.parse(text) as RunSummary);
}
