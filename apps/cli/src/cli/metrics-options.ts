import { type Command, Option } from 'commander';
import { ConfigError } from '@dptrain/config';
import { checkListen } from './preflight.js';
import { integerOf } from './role-options.js';

// The metrics flags of the roles: a worker's own metrics port (the coordinator and the shards
// serve GET /metrics on the port they have), the file each role leaves its last values in, and
// how `dptrain local` turns the workers' ports on.

const PORT_HELP = 'a port number; give an integer in 0..65535 (0: any free port)';

/** `--metrics-port` of a worker. */
export const metricsPortOption = (): Option =>
  new Option(
    '--metrics-port <port>',
    'serve GET /metrics (with the token) and GET /healthz over plain HTTP on this port (0: any free port, logged); default off',
  ).env('DPTRAIN_METRICS_PORT');

/** `--metrics-host` of a worker. */
export const metricsHostOption = (): Option =>
  new Option('--metrics-host <host>', 'address the metrics port listens on').env('DPTRAIN_METRICS_HOST').default('127.0.0.1');

/** `--metrics-file` of a shard or a worker. */
export const metricsFileOption = (): Option =>
  new Option('--metrics-file <file>', "when stopping, write the last values of this process's metrics here (Prometheus text format)").env(
    'DPTRAIN_METRICS_FILE',
  );

/** `--metrics-port-base` of local. */
export const metricsPortBaseOption = (): Option =>
  new Option(
    '--metrics-port-base <port>',
    'workers serve GET /metrics: worker-k on port+k (0: each any free port); the ports are in cluster.json; default off',
  ).env('DPTRAIN_METRICS_PORT_BASE');

/** The metrics settings a worker was given: where it serves them (if anywhere), where it leaves them. */
export function workerMetricsOf(command: Command): { metrics?: { host: string; port: number }; metricsFile?: string } {
  const options = command.opts<{ metricsPort?: string; metricsHost: string; metricsFile?: string }>();
  // An empty variable counts as unset, as for every other setting.
  return {
    ...(options.metricsPort ? { metrics: { host: options.metricsHost, port: integerOf(command, 'metricsPort', 65535, PORT_HELP) } } : {}),
    ...(options.metricsFile ? { metricsFile: options.metricsFile } : {}),
  };
}

/** That a worker's metrics port is free, before it loads anything. */
export async function checkMetricsListen(metrics: { host: string; port: number } | undefined): Promise<void> {
  if (metrics) await checkListen(metrics.host, metrics.port, { host: '--metrics-host', port: '--metrics-port' });
}

/**
 * The first metrics port of local's `workers` workers (worker-k serves on base+k; 0: each any
 * free port), checked to be free on 127.0.0.1, or undefined when not given.
 * @throws ConfigError when a worker's port would pass 65535, or one is taken
 */
export async function metricsPortBaseOf(command: Command, workers: number): Promise<number | undefined> {
  if (!command.opts<{ metricsPortBase?: string }>().metricsPortBase) return undefined;
  const base = integerOf(command, 'metricsPortBase', 65535, PORT_HELP);
  if (base === 0) return base;
  if (base + workers - 1 > 65535) {
    throw new ConfigError(
      'E_CONFIG_VALUE',
      `--metrics-port-base ${base} gives worker-${workers - 1} port ${base + workers - 1}, past 65535; give a base of at most ${65536 - workers}, or 0 (any free ports)`,
    );
  }
  for (let k = 0; k < workers; k++) await checkListen('127.0.0.1', base + k, { host: '--host', port: '--metrics-port-base' });
  return base;
}
