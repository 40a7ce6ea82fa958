import { readFileSync } from 'node:fs';
import { ConfigError } from '@dptrain/config';

/** The certificate and key a server presents for wss:// (PEM), read once at start-up. */
export interface TlsFiles {
  readonly cert: Buffer;
  readonly key: Buffer;
}

function read(flag: string, path: string): Buffer {
  try {
    return readFileSync(path);
  } catch (error) {
    throw new ConfigError(
      'E_CONFIG_VALUE',
      `${flag} ${path} cannot be read (${(error as NodeJS.ErrnoException).code ?? String(error)}); give a PEM file this process may read`,
      { cause: error },
    );
  }
}

/**
 * `--tls-cert` and `--tls-key` as a server's TLS settings: both or neither.
 * @throws ConfigError naming the flag when only one is given or a file cannot be read
 */
export function serverTls(certFile: string | undefined, keyFile: string | undefined): TlsFiles | undefined {
  if (certFile === undefined && keyFile === undefined) return undefined;
  if (certFile === undefined || keyFile === undefined) {
    throw new ConfigError(
      'E_CONFIG_VALUE',
      `--tls-cert and --tls-key go together (DPTRAIN_TLS_CERT, DPTRAIN_TLS_KEY); only ${certFile === undefined ? '--tls-key' : '--tls-cert'} was given`,
    );
  }
  return { cert: read('--tls-cert', certFile), key: read('--tls-key', keyFile) };
}

/** `--tls-ca`: the certificate authorities a client trusts for wss:// peers (e.g. the job's self-signed certificate). */
export function clientCa(caFile: string | undefined): { ca?: Buffer } {
  return caFile === undefined ? {} : { ca: read('--tls-ca', caFile) };
}
