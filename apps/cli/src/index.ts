/** The CLI's surface for embedding; the binary is dist/main.js. */
export { run, mainHelp } from './cli.js';
export type { Command } from './context.js';
export { ExitCode, UsageError } from './errors.js';
