export { createFaultProxy, type FaultEvent, type FaultProxy, type FaultProxyOptions, type FaultProxyStats } from './proxy.js';
export type { BlackholeRule, DelayRule, Direction, DropRule, DuplicateRule, FaultRule, MessageSelector, ResetRule } from './schedule.js';
export { DEFAULT_MAX_FRAME_BYTES, FrameSplitter, isControl, preambleLength, type WsFrame } from './ws-frames.js';
export { mulberry32, randomSeed } from './prng.js';
export { FaultProxyError, type FaultProxyErrorCode } from './errors.js';
export { createNetns, natUnsupported, netnsUnsupported, type Netns } from './netns.js';
