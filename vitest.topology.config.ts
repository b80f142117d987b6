import { defineConfig } from 'vitest/config';

/**
 * Production-topology fault scenarios (issue 13): failover to a synchronous standby and network
 * faults through a proxy. `npm run test:topology` (reduced, CI: .ci/steps/45-topology-faults.sh);
 * `FAULTS_SCALE=full npm run test:topology` for the full counts.
 */
export default defineConfig({
  test: {
    include: ['test/faults/failover.test.ts', 'test/faults/network.test.ts'],
    globalSetup: ['test/helpers/global-setup.ts'],
    testTimeout: 600_000,
    hookTimeout: 120_000,
    pool: 'forks',
    fileParallelism: false,
  },
});
