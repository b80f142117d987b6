import { createRequire } from 'node:module';

/**
 * This package's version, read from its package.json (dist/ → ../package.json), so the
 * published number is the one `jobline --version`, migrate results and `workers.version` report.
 */
export const VERSION: string = (createRequire(import.meta.url)('../package.json') as { version: string }).version;
