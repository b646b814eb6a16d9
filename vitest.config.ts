import { availableParallelism } from 'node:os';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    // Most test time is spent waiting on the emulators, timers and heartbeats, not on the CPU: two
    // files at once on a 2-core machine (the default would be one at a time).
    maxWorkers: Math.max(2, availableParallelism() - 1),
    projects: [
      {
        test: {
          name: 'unit',
          include: ['test/unit/**/*.test.ts'],
        },
      },
      {
        test: {
          name: 'integration',
          include: ['test/integration/**/*.test.ts'],
          globalSetup: ['test/helpers/global-setup.ts'],
          testTimeout: 60_000,
          hookTimeout: 60_000,
        },
      },
      {
        test: {
          name: 'infra',
          include: ['test/infra/**/*.test.ts'],
          setupFiles: ['test/helpers/cdk-outdir.ts'],
          // Synthesizing (and, in one test, bundling with esbuild) takes seconds per stack.
          testTimeout: 120_000,
        },
      },
    ],
  },
});
