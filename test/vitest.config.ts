import { defineConfig, mergeConfig } from 'vitest/config';
import shared from '../vitest.shared.js';

// End-to-end tests wait for processes to reach a state (a job's end, a fault handled); on a machine
// loaded by other work that takes several times as long. The timeout is only a bound for a hang.
export default mergeConfig(shared, defineConfig({ test: { testTimeout: 15 * 60_000, hookTimeout: 15 * 60_000 } }));
