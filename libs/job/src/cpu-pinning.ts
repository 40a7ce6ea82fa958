/** The processes of a `dptrain local` cluster, as far as pinning them goes. */
export interface PinnedCluster {
  readonly workers: number;
  readonly psShards: number;
  /** Worker k serves shard k from a thread of its process (`--colocate`): no shard processes. */
  readonly colocate: boolean;
}

/**
 * The core each process of a `dptrain local` cluster runs on with `--pin-cpus`, by process name:
 * the workers first (worker-k on core k), then the shard processes, then the coordinator, round
 * the `cores` in that order. Workers compute at the same time, so they get cores of their own
 * first; a step's fold and the coordinator's bookkeeping follow the computation. The simulator
 * models the same placement (Placement.pinned), which is why both take it from here.
 */
export function pinnedCores(cluster: PinnedCluster, cores: number): Map<string, number> {
  if (!(Number.isInteger(cores) && cores >= 1)) throw new RangeError(`cannot pin to ${cores} cores; give a positive whole number of cores`);
  const names = [
    ...Array.from({ length: cluster.workers }, (_, k) => `worker-${k}`),
    ...(cluster.colocate ? [] : Array.from({ length: cluster.psShards }, (_, s) => `ps-${s}`)),
    'coordinator',
  ];
  return new Map(names.map((name, i) => [name, i % cores]));
}
