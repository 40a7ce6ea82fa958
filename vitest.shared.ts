import { defineConfig } from 'vitest/config';

// One process per test file keeps TensorFlow.js backends (global singletons) isolated;
// two at a time matches the two cores these machines have.
export default defineConfig({
  test: {
    include: ['src/**/*.test.ts', '**/*.test.ts'],
    exclude: ['**/node_modules/**'],
    pool: 'forks',
    maxWorkers: 2,
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // No test may reach for the network: data-set loaders fail instead of downloading.
    env: { DPTRAIN_OFFLINE: '1' },
    // The JSON report feeds the whole run's closing line (tools/test-summary.ts).
    reporters: ['default', 'json'],
    outputFile: { json: '.vitest-report.json' },
  },
});
