import nx from '@nx/eslint-plugin';

// Module boundaries are the architecture, one tag per project: numerics and the wire format depend
// on nothing of ours; the job module sits under everything that runs a job; the trainer, the
// cluster roles and the simulator (the lab) stack in that order, and nothing of the product reaches
// up into the lab. test/cli/module-boundaries.test.ts lints a wrong import on purpose.
// Each layer may import the layers below it: the tags are built up from the bottom.
const base = ['scope:errors', 'scope:log', 'scope:random'];
const numerics = [...base, 'scope:config', 'scope:data', 'scope:model', 'scope:optim', 'scope:backend', 'scope:io'];
const trainer = [...numerics, 'scope:job'];
const roles = [...trainer, 'scope:training', 'scope:protocol'];
const depConstraints = [
  { sourceTag: 'scope:errors', onlyDependOnLibsWithTags: [] },
  { sourceTag: 'scope:log', onlyDependOnLibsWithTags: [] },
  { sourceTag: 'scope:random', onlyDependOnLibsWithTags: ['scope:errors'] },
  { sourceTag: 'scope:optim', onlyDependOnLibsWithTags: ['scope:errors', 'scope:random'] },
  { sourceTag: 'scope:protocol', onlyDependOnLibsWithTags: base },
  { sourceTag: 'scope:backend', onlyDependOnLibsWithTags: ['scope:errors'] },
  { sourceTag: 'scope:data', onlyDependOnLibsWithTags: ['scope:errors', 'scope:random'] },
  { sourceTag: 'scope:io', onlyDependOnLibsWithTags: ['scope:errors'] },
  { sourceTag: 'scope:config', onlyDependOnLibsWithTags: ['scope:errors'] },
  { sourceTag: 'scope:faults', onlyDependOnLibsWithTags: ['scope:errors', 'scope:random'] },
  { sourceTag: 'scope:model', onlyDependOnLibsWithTags: ['scope:errors', 'scope:backend', 'scope:random'] },
  { sourceTag: 'scope:job', onlyDependOnLibsWithTags: ['scope:errors', 'scope:config', 'scope:data', 'scope:model', 'scope:optim', 'scope:random'] },
  { sourceTag: 'scope:training', onlyDependOnLibsWithTags: trainer },
  { sourceTag: 'scope:cluster', onlyDependOnLibsWithTags: roles },
  { sourceTag: 'scope:simulator', onlyDependOnLibsWithTags: [...roles, 'scope:cluster'] },
  { sourceTag: 'scope:cli', onlyDependOnLibsWithTags: ['type:lib'] },
  { sourceTag: 'type:lib', notDependOnLibsWithTags: ['type:app', 'type:e2e', 'type:bench'] },
  { sourceTag: 'type:app', onlyDependOnLibsWithTags: ['type:lib'] },
  { sourceTag: 'type:e2e', onlyDependOnLibsWithTags: ['type:lib', 'type:app'] },
  { sourceTag: 'type:bench', onlyDependOnLibsWithTags: ['type:lib'] },
];

const testOnly = [
  {
    group: ['@dptrain/*/testing', '@dptrain/*/testing/*'],
    message: "test helpers are not installed in production (npm ci --omit=dev); move what production needs into the package's main entry.",
  },
  {
    group: ['fast-check', 'vitest', 'vitest/*', 'testcontainers'],
    message: 'a dev dependency is not installed in production (npm ci --omit=dev); only tests may import it.',
  },
];
const lab = [
  {
    group: [
      '@dptrain/simulator',
      '@dptrain/simulator/*',
      '@dptrain/fault-proxy',
      '@dptrain/fault-proxy/*',
      'vega',
      'vega-lite',
      '**/experiment/*',
      '**/chaos/*',
    ],
    message: "the lab loads with its command only: use `await import(...)` inside the command's action.",
  },
];

export default [
  // Each project's vitest.config.ts re-exports the shared root config (test/ raises its timeouts).
  { ignores: ['**/node_modules/**', '**/dist/**', 'runs/**', '.nx/**', '**/*.js', '!eslint.config.js', '**/vitest.config.ts'] },
  ...nx.configs['flat/base'],
  ...nx.configs['flat/typescript'],
  {
    files: ['**/*.ts'],
    rules: {
      '@nx/enforce-module-boundaries': ['error', { enforceBuildableLibDependency: false, allow: [], depConstraints }],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/no-non-null-assertion': 'off',
    },
  },
  // The image installs with `npm ci --omit=dev`: code that runs in production must not reach test
  // helpers or the packages they use (test/containers/omit-dev.test.ts runs every role that way).
  {
    files: ['libs/*/src/**/*.ts', 'apps/*/src/**/*.ts'],
    ignores: ['**/*.test.ts', '**/testing/**', '**/test-support.ts'],
    rules: { 'no-restricted-imports': ['error', { patterns: testOnly }] },
  },
  // The product's commands load the lab (experiments, chaos, the simulator, the fault proxy, vega)
  // only through import() when its command runs: `dptrain worker` must not pay for them.
  {
    files: ['apps/cli/src/**/*.ts'],
    ignores: ['**/*.test.ts', 'apps/cli/src/experiment/**', 'apps/cli/src/chaos/**'],
    rules: { 'no-restricted-imports': ['error', { patterns: [...testOnly, ...lab] }] },
  },
];
