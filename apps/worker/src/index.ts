/** The worker app's surface for tests and embedding (the CLI spawns dist/main.js instead). */
export { startWorkerApp, type WorkerApp, type WorkerAppOptions } from './app.js';
// The process executor moved to @jobline/core (issue 16); re-exported for existing imports.
export { runProcessJob, processEnv, parseOutput, ProcessExitError, type ProcessExecutorOptions } from '@jobline/core/executors';
export { loadHandlers, HandlerModuleError } from './handlers.js';
export { loadWorkerConfig, ConfigError, type WorkerConfig } from './config.js';
export { createWorkerMetrics } from './metrics.js';
