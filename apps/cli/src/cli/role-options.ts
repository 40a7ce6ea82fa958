import type { Command } from 'commander';
import { ConfigError } from '@dptrain/config';

/**
 * `--dry-run`: after the command line, env and config file are resolved and checked as the role's
 * start-up would check them (`check`), print the result as one JSON line on stdout and tell the
 * action to stop before running anything.
 */
export function dryRun(command: Command, resolved: Record<string, unknown>, check?: () => void): boolean {
  if (!command.optsWithGlobals().dryRun) return false;
  check?.();
  process.stdout.write(`${JSON.stringify({ command: command.name(), ...resolved })}\n`);
  return true;
}

/** How an option was given, for error messages: `--port 70000` or `DPTRAIN_PORT=70000`. */
function given(command: Command, key: string): string {
  const option = command.options.find((o) => o.attributeName() === key);
  const value = String(command.getOptionValue(key));
  return command.getOptionValueSource(key) === 'env' ? `${option?.envVar}=${value}` : `${option?.long ?? key} ${value}`;
}

/** A non-negative integer option no larger than `max`; digits only, so an empty variable is not 0. */
export function integerOf(command: Command, key: string, max: number, help: string): number {
  const text = String(command.getOptionValue(key));
  const value = /^\d+$/.test(text) ? Number(text) : Number.NaN;
  if (!(value <= max)) throw new ConfigError('E_CONFIG_VALUE', `${given(command, key)} is not ${help}`);
  return value;
}

/** The TLS file flags given, as options of the role (the files are read when it starts). */
export function tlsFilesOf(options: Record<string, string | undefined>): { tlsCert?: string; tlsKey?: string; tlsCa?: string } {
  return {
    ...(options.tlsCert ? { tlsCert: options.tlsCert } : {}),
    ...(options.tlsKey ? { tlsKey: options.tlsKey } : {}),
    ...(options.tlsCa ? { tlsCa: options.tlsCa } : {}),
  };
}

export function portOf(command: Command): number {
  return integerOf(command, 'port', 65535, 'a port number; give an integer in 0..65535 (0: any free port)');
}

export function coordinatorOf(command: Command): string {
  const value = String(command.getOptionValue('coordinator'));
  const protocol = URL.canParse(value) ? new URL(value).protocol : undefined;
  if (protocol !== 'ws:' && protocol !== 'wss:') {
    throw new ConfigError(
      'E_CONFIG_VALUE',
      `${given(command, 'coordinator')} is not a WebSocket URL; give the coordinator as ws://HOST:PORT/, e.g. ws://coordinator:7000/`,
    );
  }
  return value;
}
