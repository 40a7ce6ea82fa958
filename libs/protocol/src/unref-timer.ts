/**
 * Lets a Node process exit while `timer` is pending (heartbeats, request deadlines). The same
 * code runs in a browser tab (the browser worker), whose timers are plain numbers and never keep
 * a page alive, so there is nothing to release there.
 */
export function unrefTimer<T>(timer: T): T {
  (timer as { unref?: () => unknown }).unref?.();
  return timer;
}
