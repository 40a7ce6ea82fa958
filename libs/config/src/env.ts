/**
 * The `DPTRAIN_` environment namespace. A job key is read from `DPTRAIN_<KEY>` in
 * SCREAMING_SNAKE_CASE (`batchSize` from `DPTRAIN_BATCH_SIZE`), unless that name is reserved below
 * for a meaning of its own; any other `DPTRAIN_` variable is left alone (never an error), so
 * containers can carry variables of a newer or older dptrain.
 */
export const ENV_PREFIX = 'DPTRAIN_';

/**
 * Variables of the namespace that are not job keys, with what reads them. `DPTRAIN_DATA` is here
 * although `data` is a key: it is each process's own search root for data sets, while a key's
 * value travels with the job from the coordinator to every worker, where that path may not exist.
 */
export const RESERVED_ENV: Readonly<Record<string, string>> = {
  DPTRAIN_TOKEN: 'shared secret every process of a job presents in the handshake',
  DPTRAIN_JOB: "job id every process of one cluster shares (default 'dptrain')",
  DPTRAIN_CONFIG: 'config file path, as --config',
  DPTRAIN_DATA: "directory this process searches for data sets before the cache and the system package's",
  DPTRAIN_OFFLINE: '1: data-set loaders never download',
  DPTRAIN_LOG_LEVEL: 'log level of this process (default info)',
  DPTRAIN_LOG_FORMAT: 'pretty | json: dptrain --log-format',
  DPTRAIN_DEBUG: 'set: print the stack of unexpected errors',
  DPTRAIN_V8_FLAGS: "V8 flags this process sets at start-up instead of dptrain's own (--heap-growing-percent=300); empty: V8's defaults",
  DPTRAIN_BUNDLE: "0: run the command's TypeScript sources through tsx instead of its bundle (apps/cli/bin/bundle.js)",
  DPTRAIN_COORDINATOR: 'dptrain ps|worker --coordinator',
  DPTRAIN_HOST: 'dptrain coordinator|ps|worker --host',
  DPTRAIN_PORT: 'dptrain coordinator|ps|worker --port',
  DPTRAIN_SHARD: 'dptrain ps|worker --shard',
  DPTRAIN_NAME: 'dptrain ps|worker --name',
  DPTRAIN_WORKER_ID: 'dptrain worker --worker-id',
  DPTRAIN_TLS_CERT: 'dptrain coordinator|ps|worker --tls-cert',
  DPTRAIN_TLS_KEY: 'dptrain coordinator|ps|worker --tls-key',
  DPTRAIN_TLS_CA: 'dptrain ps|worker --tls-ca',
  DPTRAIN_TRACE: 'dptrain coordinator|ps|worker --trace: the file this process records its spans into',
  DPTRAIN_METRICS_PORT: 'dptrain worker --metrics-port',
  DPTRAIN_METRICS_HOST: 'dptrain worker --metrics-host',
  DPTRAIN_METRICS_FILE: 'dptrain ps|worker --metrics-file: where the last metrics go when the process stops',
  DPTRAIN_FAULT: 'fault injection for the chaos suite (slow=F, nan-from-step=T, stall-checkpoint-step=T); never set in a real job',
};

/** `batchSize` → `DPTRAIN_BATCH_SIZE`, `beta1` → `DPTRAIN_BETA1`. */
export function envNameOf(key: string): string {
  return `${ENV_PREFIX}${key.replace(/[A-Z]/g, (c) => `_${c}`).toUpperCase()}`;
}
