import { defineConfig } from 'vitest/config';

/**
 * Container executor tests on a real Docker Engine API (podman's service here): `npm run
 * test:containers` (it sources .ci/podman.sh, which starts the service and builds the test image).
 * Kept out of `npm test` so that suite needs no engine; CI runs this one in .ci/steps/50-containers.sh.
 */
export default defineConfig({
  test: {
    include: ['test/containers/**/*.containers.ts'],
    globalSetup: ['test/helpers/global-setup.ts', 'test/containers/engine-setup.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    maxWorkers: 1,
  },
});
