export interface Throughput {
  readonly series: string;
  readonly workers: number;
  readonly samplesPerSecond: number | null;
}

export interface Scaled {
  /** samples/s over the same series' samples/s with one worker; null without that baseline. */
  readonly speedup: number | null;
  /** speedup / workers: 1 is linear scaling. */
  readonly efficiency: number | null;
  /** The one-worker samples/s times the workers: the ideal line. */
  readonly ideal: number | null;
}

/** Speedup, efficiency and the ideal throughput of each entry against its series' one-worker entry. */
export function scaleAgainstOneWorker(entries: readonly Throughput[]): Scaled[] {
  return entries.map((e) => {
    const base = entries.find((b) => b.series === e.series && b.workers === 1)?.samplesPerSecond ?? null;
    if (base === null || base <= 0) return { speedup: null, efficiency: null, ideal: null };
    const ideal = base * e.workers;
    if (e.samplesPerSecond === null) return { speedup: null, efficiency: null, ideal };
    const speedup = e.samplesPerSecond / base;
    return { speedup, efficiency: speedup / e.workers, ideal };
  });
}
