import { defineConfig } from 'vitest/config';

// Each test file runs in its own forked process with its own redis-server and data directory
// (see test/helpers/env.ts); two workers match the two cores of the machines this runs on.
export default defineConfig({
  test: {
    include: ['**/*.spec.ts', 'test/**/*.test.ts'],
    exclude: ['node_modules/**', 'dist/**', 'data/**'],
    pool: 'forks',
    maxWorkers: 2,
    testTimeout: 60_000,
    hookTimeout: 60_000,
  },
});
