import { defineConfig } from 'vitest/config';

/**
 * Tests that need a container engine (`source .ci/podman.sh` first): `npx vitest run --config
 * vitest.containers.config.ts`. Kept out of `npm test`, which runs without an engine.
 */
export default defineConfig({
  test: {
    include: ['test/testcontainers/**/*.test.ts'],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    pool: 'forks',
    fileParallelism: false,
  },
});
