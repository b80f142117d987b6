import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.mjs'],
    exclude: ['test/**/*.node.test.mjs', '**/node_modules/**'],
    // One embedded PostgreSQL for the whole run when DATABASE_URL is unset.
    globalSetup: ['@jobline/testing/vitest-global-setup'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
  },
});
