// The job's token reaches the page in the URL's fragment (#token=…), which browsers never send to
// a server; the page keeps it for this tab only (sessionStorage) and takes it out of the address
// bar, so it is not in the history, a bookmark or a shared screenshot of the URL.

const KEY = 'dptrain-token';

/**
 * The token of this tab: from the fragment if there is one (then stored and removed from the
 * address bar), else the one stored before.
 * @returns {string | undefined}
 */
export function takeToken() {
  const fragment = new URLSearchParams(location.hash.slice(1));
  const given = fragment.get('token');
  if (given !== null) {
    fragment.delete('token');
    const rest = fragment.toString();
    history.replaceState(null, '', `${location.pathname}${location.search}${rest ? `#${rest}` : ''}`);
    if (given !== '') sessionStorage.setItem(KEY, given);
  }
  return sessionStorage.getItem(KEY) ?? undefined;
}

/** The coordinator refused the token: it is not kept. */
export function forgetToken() {
  sessionStorage.removeItem(KEY);
}
