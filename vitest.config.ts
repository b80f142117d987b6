import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    exclude: ['test/faults/**', 'test/browser/**', '**/node_modules/**'],
    globalSetup: ['test/helpers/global-setup.ts'],
    // A hang guard, not a speed check: at a load of 20+ on two cores (measured here, machine shared)
    // tests that start a dozen CLI or worker processes in a row took over 60 s.
    testTimeout: 180_000,
    hookTimeout: 180_000,
    // Files run in parallel (each gets its own schema); two cores here, so two at a time.
    pool: 'forks',
    maxWorkers: 2,
    // `--coverage` (CI: .ci/steps/85-shuffle.sh). The tests import the built packages; their
    // source maps bring the counts back to src/. Code run in child processes (worker fixtures,
    // the CLI, process jobs) is not counted: the numbers are a floor.
    coverage: {
      provider: 'v8',
      include: ['packages/*/dist/**/*.js', 'apps/*/dist/**/*.js', 'packages/*/src/**/*.ts', 'apps/*/src/**/*.ts'],
      exclude: ['**/*.d.ts', 'apps/dashboard/**'],
      reporter: ['text-summary', 'json-summary', 'text'],
      reportsDirectory: 'coverage',
    },
  },
});
