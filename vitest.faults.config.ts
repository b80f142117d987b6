import { defineConfig } from 'vitest/config';

/** The fault suite (`npm run test:faults`; `FAULTS_SCALE=full` for the full counts). */
export default defineConfig({
  test: {
    include: ['test/faults/**/*.test.ts'],
    // Topology scenarios (issue 13) own their clusters and proxies: `npm run test:topology`.
    exclude: ['test/faults/failover.test.ts', 'test/faults/network.test.ts', '**/node_modules/**'],
    globalSetup: ['test/helpers/global-setup.ts'],
    testTimeout: 600_000,
    hookTimeout: 120_000,
    pool: 'forks',
    // One scenario at a time: each one loads the machine's two cores on purpose.
    fileParallelism: false,
  },
});
