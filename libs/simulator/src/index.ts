export { EventQueue, type EventHandle } from './event-queue.js';
export { installVirtualTime, runUntil } from './virtual-time.js';
export { Host, Process } from './cpu.js';
export { Endpoint, Network, type Traffic, type WireModel } from './network.js';
export {
  CalibrationError,
  checkCalibration,
  computeRunCost,
  costOf,
  type Calibration,
  type ComputeRun,
  type CoordinatorStepCost,
  type LinearCost,
  type PortCost,
} from './calibration.js';
export { simulate, type SimulationOptions, type SimulationResult } from './simulation.js';
export type { Stragglers } from './sim-worker.js';
export { FRAME_OVERHEAD_BYTES, type Layout, type Placement } from './world.js';
export { calibrate, type CalibrateOptions, type SelfPinning } from './calibrate.js';
export { medianCalibration } from './calibration-median.js';
