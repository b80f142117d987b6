/**
 * `@jobline/core/schemas`: the zod schemas Jobline validates its input with, for HTTP layers
 * and tools that validate (or document, e.g. OpenAPI) the same shapes before calling it.
 */
export * from './schemas.js';
export { DagNodeSpecSchema, DagSpecSchema, DagEvent, DagNodeKey } from './dag/index.js';
export { QueueConfigSchema } from './queue/queue-config.js';
export { JobSearchSchema } from './queue/search.js';
export { RetryFilterSchema } from './queue/retry-now.js';
export { DagListSchema } from './dag/list.js';
