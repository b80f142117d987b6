/** The worker app's surface for tests and embedding (the CLI spawns dist/main.js instead). */
export { startWorkerApp, type WorkerApp, type WorkerAppOptions } from './app.js';
export { runProcessJob, processEnv, parseOutput, ProcessExitError, type ProcessExecutorOptions } from './process-executor.js';
export { DefinitionCache, definitionResolver } from './definitions.js';
export { loadHandlers, HandlerModuleError } from './handlers.js';
export { loadWorkerConfig, ConfigError, type WorkerConfig } from './config.js';
export { createWorkerMetrics } from './metrics.js';
