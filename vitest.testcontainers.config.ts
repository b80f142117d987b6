import { defineConfig } from 'vitest/config';

/**
 * @jobline/testing's PostgreSQL-in-a-container (testcontainers) on a real engine: run by
 * .ci/steps/56-testcontainers.sh, which starts podman's Docker-API service (.ci/podman.sh), builds
 * the local PostgreSQL image and disables Ryuk. The files end in `.testcontainers.ts`, so
 * `npm test` (no engine) never picks them up.
 */
export default defineConfig({
  test: {
    include: ['test/testcontainers/**/*.testcontainers.ts'],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    pool: 'forks',
    fileParallelism: false,
  },
});
