import { defineConfig } from 'vitest/config';

// The chaos/fault suite (`npm run chaos`, see docs/reliability.md): long scenarios that spawn many
// processes and inject faults, so one file at a time, with generous timeouts. Its files are named
// *.chaos.ts so that the default `npm test` (test/**/*.test.ts) never picks them up.
// `npm run chaos -- --soak` (CHAOS_SOAK=1, see scripts/chaos.mjs) runs the soak instead: *.soak.ts, for
// as long as it takes to inject its faults.
const soak = process.env.CHAOS_SOAK === '1';

export default defineConfig({
  test: {
    include: soak ? ['test/chaos/**/*.soak.ts'] : ['test/chaos/**/*.chaos.ts'],
    testTimeout: soak ? 4 * 3_600_000 : 300_000,
    hookTimeout: 60_000,
    teardownTimeout: 30_000,
    maxWorkers: 1,
    fileParallelism: false,
    // Print the seed and the measured figures as they come.
    silent: false,
    reporters: ['verbose'],
  },
});
