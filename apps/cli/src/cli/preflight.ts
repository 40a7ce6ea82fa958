import { createServer } from 'node:net';
import { ConfigError } from '@dptrain/config';

// What a role can check in milliseconds before it loads TensorFlow.js and the data set (seconds):
// a missing token or a busy port should not cost the user that wait, nor leave a run folder behind.

/** The shared token of the job, as the handshake will require it. */
export async function checkToken(): Promise<void> {
  const { resolveToken } = await import('@dptrain/protocol/handshake');
  try {
    resolveToken(undefined);
  } catch (error) {
    throw new ConfigError('E_CONFIG_VALUE', (error as Error).message, { cause: error });
  }
}

/**
 * That this process may listen on `host:port` (0: any port, nothing to check). The port is
 * released again at once; the role binds it for real moments later. `flags` name the options
 * that set them, for the message.
 */
export async function checkListen(host: string, port: number, flags?: { host: string; port: string }): Promise<void> {
  if (port === 0) return;
  const { listenError } = await import('@dptrain/protocol/listen');
  await new Promise<void>((resolve, reject) => {
    const probe = createServer();
    probe.once('error', (error: NodeJS.ErrnoException) =>
      reject(new ConfigError('E_CONFIG_VALUE', listenError(error, host, port, flags).message, { cause: error })),
    );
    probe.listen({ host, port, exclusive: true }, () => probe.close(() => resolve()));
  });
}

/** That the TLS files given can be read (both of a server's, or neither), before anything loads. */
export async function checkTlsFiles(files: { tlsCert?: string; tlsKey?: string; tlsCa?: string }): Promise<void> {
  const { clientCa, serverTls } = await import('../cluster/tls-files.js');
  serverTls(files.tlsCert, files.tlsKey);
  clientCa(files.tlsCa);
}
