import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

/**
 * Entry points of the apps the CLI runs as child processes (apps never import each other,
 * DESIGN §9), resolved as packages — `@jobline/producer/main`, `@jobline/worker/main` — so they
 * are found in the workspace and in an installed @jobline/cli alike.
 */
export function appEntry(pkg: '@jobline/producer' | '@jobline/worker'): string {
  try {
    return createRequire(import.meta.url).resolve(`${pkg}/main`);
  } catch {
    return `${pkg}/main (not installed)`;
  }
}

/** The benchmark lives in the repository only (bench/ is not published). */
export const BENCH_RUN = fileURLToPath(new URL('../../../bench/run.mjs', import.meta.url));
