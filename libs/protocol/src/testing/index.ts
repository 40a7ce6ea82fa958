export { createMemoryPair, type MemoryEndOptions, type MemoryPair, type MemoryPairOptions } from './memory-pair.js';
export { anyMessage, messageArbitraries } from './arbitraries.js';
