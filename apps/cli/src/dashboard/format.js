// Numbers as the dashboard shows them.

/** "–" for what is not known (yet). */
export const NONE = '–';

/**
 * @param {number | null | undefined} x
 * @returns {x is number}
 */
function known(x) {
  return typeof x === 'number' && Number.isFinite(x);
}

/** 1234567 → "1,234,567". @param {number | null | undefined} x */
export function count(x) {
  return known(x) ? Math.round(x).toLocaleString('en-US') : NONE;
}

/** A loss: 4 significant digits. @param {number | null | undefined} x */
export function loss(x) {
  return known(x) ? x.toPrecision(4) : NONE;
}

/** 0.9123 → "91.23%". @param {number | null | undefined} x @param {number} [digits] */
export function percent(x, digits = 2) {
  return known(x) ? `${(x * 100).toFixed(digits)}%` : NONE;
}

/** A ratio's tick as a percentage with the digits the tick step needs (0.865 → "86.5%", 0.86 → "86%"). @param {number} x */
export function percentTick(x) {
  return `${Number((x * 100).toPrecision(12))}%`;
}

/** Seconds as "42.0 s", "3m05s", "2h07m". @param {number | null | undefined} seconds */
export function duration(seconds) {
  if (!known(seconds)) return NONE;
  const s = seconds;
  if (s < 60) return `${s.toFixed(1)} s`;
  const m = Math.floor(s / 60);
  return m < 60 ? `${m}m${String(Math.round(s % 60)).padStart(2, '0')}s` : `${Math.floor(m / 60)}h${String(m % 60).padStart(2, '0')}m`;
}

/** Seconds on a time axis: "45s", "2:05", "1:02:05". @param {number} seconds */
export function clock(seconds) {
  const s = Math.round(seconds);
  if (Math.abs(s) < 60) return `${s}s`;
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const rest = String(s % 60).padStart(2, '0');
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${rest}` : `${m}:${rest}`;
}

/** 1536 → "1.5 KiB". @param {number | null | undefined} x */
export function bytes(x) {
  if (!known(x)) return NONE;
  let value = x;
  for (const unit of ['B', 'KiB', 'MiB', 'GiB']) {
    if (value < 1024 || unit === 'GiB') return unit === 'B' ? `${value} B` : `${value.toFixed(1)} ${unit}`;
    value /= 1024;
  }
  return NONE;
}

/** A tick label: short, without trailing float noise. @param {number} x */
export function tick(x) {
  if (x === 0) return '0';
  const abs = Math.abs(x);
  if (abs >= 1e5 || abs < 1e-3) return x.toExponential(0);
  return String(Number(x.toPrecision(6)));
}
