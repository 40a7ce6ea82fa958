/** The contiguous range [offset, offset + length) of the flat parameter vector one shard owns. */
export interface ShardRange {
  readonly offset: number;
  readonly length: number;
}

/**
 * Shard `index` of `shards` owns [floor(index·P/S), floor((index+1)·P/S)) of P = `paramCount`
 * parameters: contiguous, covering the vector exactly once, lengths differing by at most one.
 * @throws RangeError when shards < 1, shards > paramCount or index is outside [0, shards)
 */
export function shardRange(paramCount: number, shards: number, index: number): ShardRange {
  if (!Number.isSafeInteger(shards) || shards < 1 || shards > paramCount) {
    throw new RangeError(`psShards must be an integer in [1, ${paramCount}] (the parameter count), got ${shards}; help: use fewer shards`);
  }
  if (!Number.isSafeInteger(index) || index < 0 || index >= shards) {
    throw new RangeError(`shard index must be an integer in [0, ${shards - 1}], got ${index}; help: pass --shard between 0 and psShards - 1`);
  }
  const offset = Math.floor((index * paramCount) / shards);
  const end = Math.floor(((index + 1) * paramCount) / shards);
  return { offset, length: end - offset };
}

/** Every shard's range, in shard order. */
export function shardRanges(paramCount: number, shards: number): ShardRange[] {
  return Array.from({ length: shards }, (_, index) => shardRange(paramCount, shards, index));
}
