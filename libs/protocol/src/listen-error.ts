/**
 * Why a server could not listen on `host:port`, in words a user can act on, naming the options
 * that set them (`flags`). The error keeps the system's code (EADDRINUSE, …) so callers can still
 * tell the cases apart.
 */
export function listenError(
  error: NodeJS.ErrnoException,
  host: string,
  port: number,
  flags: { readonly host: string; readonly port: string } = { host: '--host', port: '--port' },
): Error {
  const where = `${host}:${port}`;
  const help: Record<string, string> = {
    EADDRINUSE: `${where} is already in use (another dptrain process, or an earlier run still going?); stop it, or give another ${flags.port} (0 picks a free one)`,
    EACCES: `${where} needs privileges this process lacks (ports below 1024 are reserved); give ${flags.port} 1024 or above (0 picks a free one)`,
    EADDRNOTAVAIL: `${host} is not an address of this host, so nothing can listen on it; give ${flags.host} 127.0.0.1, 0.0.0.0 (every interface) or one of this host's addresses`,
  };
  const message = error.code ? help[error.code] : undefined;
  if (!message) return error;
  return Object.assign(new Error(message, { cause: error }), { code: error.code });
}
