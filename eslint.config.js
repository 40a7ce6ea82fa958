import nx from '@nx/eslint-plugin';

// Module boundaries are the architecture: numerics and wire format depend on nothing of ours,
// apps never import apps, and only the TensorFlow.js-facing libs may reach the backend loader.
const depConstraints = [
  { sourceTag: 'scope:random', onlyDependOnLibsWithTags: [] },
  { sourceTag: 'scope:optim', onlyDependOnLibsWithTags: ['scope:random'] },
  { sourceTag: 'scope:protocol', onlyDependOnLibsWithTags: [] },
  { sourceTag: 'scope:backend', onlyDependOnLibsWithTags: [] },
  { sourceTag: 'scope:data', onlyDependOnLibsWithTags: ['scope:random'] },
  { sourceTag: 'scope:metrics', onlyDependOnLibsWithTags: [] },
  { sourceTag: 'scope:io', onlyDependOnLibsWithTags: [] },
  { sourceTag: 'scope:config', onlyDependOnLibsWithTags: [] },
  { sourceTag: 'scope:faults', onlyDependOnLibsWithTags: ['scope:random'] },
  { sourceTag: 'scope:model', onlyDependOnLibsWithTags: ['scope:backend', 'scope:random'] },
  { sourceTag: 'scope:runtime', onlyDependOnLibsWithTags: ['scope:runtime', 'scope:random', 'scope:protocol', 'scope:optim', 'scope:data', 'scope:model', 'scope:backend', 'scope:metrics', 'scope:io', 'scope:config'] },
  { sourceTag: 'type:lib', notDependOnLibsWithTags: ['type:app', 'type:e2e'] },
  { sourceTag: 'type:app', onlyDependOnLibsWithTags: ['type:lib'] },
  { sourceTag: 'type:e2e', onlyDependOnLibsWithTags: ['type:lib'] },
  { sourceTag: 'type:bench', onlyDependOnLibsWithTags: ['type:lib'] },
];

export default [
  // Each project's vitest.config.ts re-exports the shared root config (test/ raises its timeouts).
  { ignores: ['**/node_modules/**', '**/dist/**', 'runs/**', '.nx/**', '**/*.js', '!eslint.config.js', '**/vitest.config.ts'] },
  ...nx.configs['flat/base'],
  ...nx.configs['flat/typescript'],
  {
    files: ['**/*.ts'],
    rules: {
      '@nx/enforce-module-boundaries': [
        'error',
        { enforceBuildableLibDependency: false, allow: [], depConstraints },
      ],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/no-non-null-assertion': 'off',
    },
  },
  // The image installs with `npm ci --omit=dev`: code that runs in production must not reach test
  // helpers or the packages they use (test/containers/omit-dev.test.ts runs every role that way).
  {
    files: ['libs/*/src/**/*.ts', 'apps/*/src/**/*.ts'],
    ignores: ['**/*.test.ts', '**/testing/**', '**/test-support.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            { group: ['@dptrain/*/testing', '@dptrain/*/testing/*'], message: 'test helpers are not installed in production (npm ci --omit=dev); move what production needs into the package\'s main entry.' },
            { group: ['fast-check', 'vitest', 'vitest/*', 'testcontainers'], message: 'a dev dependency is not installed in production (npm ci --omit=dev); only tests may import it.' },
          ],
        },
      ],
    },
  },
];
