import { defineConfig } from 'vitest/config';

// The real agent CLIs against scripted model servers: slow processes (each CLI takes a second
// or more to start), so long timeouts and one file at a time per core.
export default defineConfig({
  test: {
    include: ['test/agents-real/**/*.test.ts'],
    testTimeout: 120_000,
    hookTimeout: 60_000,
    pool: 'forks',
    maxWorkers: 2,
  },
});
