/** The samples of a Prometheus text exposition, `name{labels}` → value, for the metrics' unit tests. */
export async function samples(text: Promise<string> | string): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  for (const line of (await text).split('\n')) {
    const m = /^(dptrain_[a-z_]+(?:\{[^}]*\})?) (\S+)$/.exec(line);
    if (m) out.set(m[1]!, Number(m[2]));
  }
  return out;
}

/** The metric families an exposition declares (`# TYPE` lines), name → type. */
export async function families(text: Promise<string> | string): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for (const line of (await text).split('\n')) {
    const m = /^# TYPE (\S+) (\S+)$/.exec(line);
    if (m) out.set(m[1]!, m[2]!);
  }
  return out;
}
