export { createTestDatabase, TestDatabase, type TestDatabaseOptions } from './database.js';
export { reset } from './reset.js';
export { DEV_SEED, seed, type SeedData, type SeedResult } from './seed.js';
export { runJob, drain, type RunJobOptions, type RunJobResult, type DrainOptions, type DrainResult } from './run-job.js';
export { enqueued, expectEnqueued, expectNotEnqueued, matches, type JobMatch } from './assertions.js';
export type { ContainerOptions } from './server.js';
