import { defineConfig } from 'vitest/config';

/**
 * The dashboard's browser tests (`npm run test:browser`, CI step .ci/steps/60-browser.sh): real
 * Chromium (Debian's package) driven by playwright-core against the real producer. They need
 * the built dashboard (`npm run build`).
 */
export default defineConfig({
  test: {
    include: ['test/browser/**/*.test.ts'],
    globalSetup: ['test/helpers/global-setup.ts'],
    testTimeout: 60_000,
    hookTimeout: 90_000,
    pool: 'forks',
    fileParallelism: false,
  },
});
