/** The CLI's surface for embedding; the binary is bin/jobline.js (which runs dist/main.js). */
export { run, mainHelp } from './cli.js';
export type { Command } from './context.js';
export { ExitCode, UsageError } from './errors.js';
