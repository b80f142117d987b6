/** `@jobline/core/executors`: handler, process and container executors and their errors, the Docker Engine client (executors/README.md). */
export * from './executors/index.js';
