/**
 * `@jobline/core`: what an application needs (DESIGN §6, §9) — connect, enqueue, run workers,
 * read jobs and DAGs, the errors to catch and the types of what comes back. At most 60 names
 * (test/public-api.test.ts counts them). Everything else is behind a documented subpath
 * (packages/core/README.md "Subpath exports"): `/admin`, `/observability`, `/events`,
 * `/inspect`, `/tenants`, `/schemas`, `/definitions`, `/schedule`, `/executors`, `/typed`, and `/internal`
 * for this repository's own packages and tests. docs/MIGRATING.md maps every name that moved.
 */
export { Jobline, type TxOption, type TypedJobline, type EnqueueSpec } from './jobline.js';
export type { ConnectOptions } from './connect-options.js';
export type {
  JobTypes,
  JobsFromSchemas,
  JobInput,
  JobOutput,
  TypedJob,
  TypedJobSpec,
  TypedHandlers,
  TypedDagSpec,
} from './typed-jobs.js';
// What jl.worker() returns: the worker runtime and the leader services it hosts (node/node.ts).
export { JoblineNode as Worker } from './node/node.js';
export type { WorkerOptions } from './worker/options.js';
export { TimeoutError, type Handler, type Handlers, type JobContext } from './worker/run-attempt.js';
export {
  JoblineError,
  ErrorCode,
  ValidationError,
  NotFoundError,
  DuplicateError,
  ForeignKeyError,
  ConflictError,
  MigrationError,
  NonRetryableError,
  CancelledError,
  ShutdownError,
  type FieldIssue,
} from './db/errors.js';
export { EmbeddedUnavailableError } from './db/embedded.js';
export { JobState, ExecutionState } from './model/states.js';
export type { Job, JobExecution, JobError } from './model/job.js';
export type { JobSpec } from './schemas.js';
export type { EnqueueResult } from './queue/enqueue.js';
export type { JobFilter, JobPage } from './queue/read.js';
export type { QueueConfig, QueueSettings } from './queue/queue-config.js';
export type { QueueInfo } from './queue/list-queues.js';
export type { HealthChecks } from './db/health.js';
export {
  DagRunState,
  DagNodeState,
  DagFailurePolicy,
  type DagSpec,
  type DagNodeSpec,
  type DagRunDetail,
  type SubmittedDag,
} from './dag/index.js';
export type { Definition, DefinitionSpec } from './definitions/index.js';
export type { Schedule, ScheduleSpec } from './schedule/index.js';
export type { JoblineEvent } from '@jobline/contracts';
export type { Queryable } from './db/pool.js';
export { VERSION } from './version.js';
