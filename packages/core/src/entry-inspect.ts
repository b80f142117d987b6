/**
 * `@jobline/core/inspect`: the types and caps of `jl.inspect` (bounded reads for dashboards),
 * of bulk retry, of DAG run listings, and the worker, DAG node and backoff shapes tools show.
 */
export { Inspector } from './inspector.js';
export { DEPTH_COUNT_CAP, type QueueOverview, type QueuePage, type QueuePageOptions, type DepthCount } from './queue/overview.js';
export { STATS_SAMPLE_CAP, type Throughput, type ThroughputBucket, type QueueStats, type WorkerOverview } from './queue/activity.js';
export type { JobSearch, JobSearchPage } from './queue/search.js';
export type { RetryFilter, BulkRetryResult } from './queue/retry-now.js';
export type { DagListFilter, DagRunPage } from './dag/list.js';
export type { QueueOutcome } from './queue/outcomes.js';
export type { DagRun, DagNode, DagEdge } from './dag/index.js';
export type { WorkerInfo } from './model/job.js';
export type { WorkerStats, Transition } from './worker/worker.js';
export { backoffDelayMs, resolveBackoff, type BackoffOptions } from './queue/retry.js';
