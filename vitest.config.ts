import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
    // The real agent CLIs: `npm run test:agents-real` (its own config and pinned installs).
    exclude: ['**/node_modules/**', 'test/agents-real/**'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    pool: 'forks',
    // Real processes and real servers: keep parallelism modest on a 2-core machine.
    maxWorkers: 2,
  },
});
