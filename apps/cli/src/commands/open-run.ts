import { initBackend, parseBackendChoice, type BackendName } from '@dptrain/backend';
import { loadRunModel, type RunModel } from '@dptrain/training';
import type { Logger } from '../logger.js';

/**
 * The finished run in `dir` with its model loaded, on `backend`, by default the one the run used
 * (summary.json's; config.json's choice when there is no summary): the same backend computes the
 * same bits as the run's own test evaluation.
 */
export async function openRun(dir: string, backend: string | undefined, logger: Logger): Promise<{ run: RunModel; backend: BackendName }> {
  const run = await loadRunModel(dir);
  const chosen = await initBackend(parseBackendChoice(backend ?? run.summary?.backend ?? run.config.backend));
  logger.info({ backend: chosen.name, tried: chosen.tried }, `TensorFlow.js backend: ${chosen.name}`);
  return { run, backend: chosen.name };
}

/** `7 Sneaker`, or `7` where the classes have no names. */
export function classLabel(index: number, classNames: readonly string[] | undefined): string {
  return classNames ? `${index} ${classNames[index]}` : String(index);
}
