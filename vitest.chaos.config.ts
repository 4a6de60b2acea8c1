import { defineConfig } from 'vitest/config';

// The chaos/fault suite (`npm run chaos`, see docs/reliability.md): long scenarios that spawn many
// processes and inject faults, so one file at a time, with generous timeouts. Its files are named
// *.chaos.ts so that the default `npm test` (test/**/*.test.ts) never picks them up.
export default defineConfig({
  test: {
    include: ['test/chaos/**/*.chaos.ts'],
    testTimeout: 300_000,
    hookTimeout: 60_000,
    teardownTimeout: 30_000,
    maxWorkers: 1,
    fileParallelism: false,
    // Print the seed and the measured figures as they come.
    silent: false,
    reporters: ['verbose'],
  },
});
