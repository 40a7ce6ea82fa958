import * as http from 'node:http';
import { createRequire } from 'node:module';

/**
 * How ws masks and unmasks frames in this process:
 * - `builtin`: Node's own http.websocketMask (newer Node versions), preferred by ws;
 * - `native`: the bufferutil addon (2.5–3.8× faster than plain JavaScript on loopback);
 * - `fallback`: bufferutil installed without its native build (plain JavaScript);
 * - `disabled`: WS_NO_BUFFER_UTIL is set, so ws skips bufferutil;
 * - `missing`: bufferutil cannot be loaded.
 */
export type MaskingImplementation = 'builtin' | 'native' | 'fallback' | 'disabled' | 'missing';

const require = createRequire(import.meta.url);

/** Mirrors the choice ws@8 makes when it loads (lib/buffer-util.js), for start-up logs and checks. */
export function maskingImplementation(): MaskingImplementation {
  if ('websocketMask' in http) return 'builtin';
  if (process.env.WS_NO_BUFFER_UTIL) return 'disabled';
  let bufferUtil: { mask?: unknown };
  try {
    bufferUtil = require('bufferutil') as { mask?: unknown };
  } catch {
    return 'missing';
  }
  return typeof bufferUtil.mask === 'function' && /\[native code\]/.test(Function.prototype.toString.call(bufferUtil.mask)) ? 'native' : 'fallback';
}
