/**
 * Why a server could not listen on `host:port`, in words a user can act on. The error keeps the
 * system's code (EADDRINUSE, …) so callers can still tell the cases apart.
 */
export function listenError(error: NodeJS.ErrnoException, host: string, port: number): Error {
  const where = `${host}:${port}`;
  const help: Record<string, string> = {
    EADDRINUSE: `${where} is already in use (another dptrain process, or an earlier run still going?); stop it, or give another --port (0 picks a free one)`,
    EACCES: `${where} needs privileges this process lacks (ports below 1024 are reserved); give --port 1024 or above (0 picks a free one)`,
    EADDRNOTAVAIL: `${host} is not an address of this host, so nothing can listen on it; give --host 127.0.0.1, 0.0.0.0 (every interface) or one of this host's addresses`,
  };
  const message = error.code ? help[error.code] : undefined;
  if (!message) return error;
  return Object.assign(new Error(message, { cause: error }), { code: error.code });
}
