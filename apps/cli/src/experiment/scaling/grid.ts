/** The axes of `dptrain experiment scaling`; every combination is one `dptrain local` run. */
export interface ScalingGrid {
  readonly workers: readonly number[];
  readonly modes: readonly ('sync' | 'async')[];
  readonly psShards: readonly number[];
  readonly microBatchSizes: readonly number[];
}

export interface GridCell {
  /** e.g. `sync-s1-mb16-w2`: the run folder's name and the row's key. */
  readonly id: string;
  readonly mode: 'sync' | 'async';
  readonly psShards: number;
  readonly microBatchSize: number;
  readonly workers: number;
  /** The cell's curve in the plots: the cell without its worker count. */
  readonly series: string;
  /** Processes of the run: coordinator + shards + workers (co-located: coordinator + workers). */
  readonly processes: number;
  /**
   * More processes than cores: they take turns on the cores, so a change in throughput is not
   * scaling and the report says so.
   */
  readonly oversubscribed: boolean;
  /** Worker k also serves shard k (`dptrain local --colocate`), so psShards = workers. */
  readonly colocate?: boolean;
  /** Each process pinned to one CPU (`dptrain local --pin-cpus`). */
  readonly pinCpus?: boolean;
}

/** Processes a `dptrain local` run starts: one coordinator, the shards, the workers. */
export function processCount(workers: number, psShards: number): number {
  return 1 + psShards + workers;
}

/** Every cell of the grid: by mode, then shards, then micro-batch size, then workers (the x axis). */
export function expandGrid(grid: ScalingGrid, cores: number): GridCell[] {
  const cells: GridCell[] = [];
  for (const mode of grid.modes) {
    for (const psShards of grid.psShards) {
      for (const microBatchSize of grid.microBatchSizes) {
        for (const workers of grid.workers) {
          const processes = processCount(workers, psShards);
          const series = `${mode} shards=${psShards} mb=${microBatchSize}`;
          cells.push({
            id: `${mode}-s${psShards}-mb${microBatchSize}-w${workers}`,
            mode,
            psShards,
            microBatchSize,
            workers,
            series,
            processes,
            oversubscribed: processes > cores,
          });
        }
      }
    }
  }
  return cells;
}

/**
 * The cell of a co-located run (`dptrain local --colocate`): worker k serves shard k from a thread
 * of its process, so there are as many shards as workers and no shard processes.
 */
export function colocatedCell(mode: 'sync' | 'async', microBatchSize: number, workers: number, cores: number): GridCell {
  const processes = processCount(workers, 0);
  return {
    id: `${mode}-colocated-mb${microBatchSize}-w${workers}`,
    mode,
    psShards: workers,
    microBatchSize,
    workers,
    series: `${mode} co-located mb=${microBatchSize}`,
    processes,
    oversubscribed: processes > cores,
    colocate: true,
  };
}
