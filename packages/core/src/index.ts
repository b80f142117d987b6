export { Jobline, type ConnectOptions, type TxOption, type TypedJobline } from './jobline.js';
export type {
  JobTypes,
  JobType,
  JobsFromSchemas,
  JobNameOf,
  JobInput,
  JobOutput,
  TypedJob,
  TypedJobSpec,
  TypedHandler,
  TypedHandlers,
  TypedWorkerOptions,
  TypedDagSpec,
  TypedDagNodeSpec,
  WithRefs,
  DagRef,
} from './typed-jobs.js';
export { Worker, type WorkerStats, type Transition } from './worker/worker.js';
export {
  DagRunState,
  DagNodeState,
  DagFailurePolicy,
  DagEvent,
  DagNodeKey,
  DagNodeSpecSchema,
  DagSpecSchema,
  type DagSpec,
  type DagNodeSpec,
  type DagRun,
  type DagNode,
  type DagEdge,
  type DagRunDetail,
  type SubmittedDag,
} from './dag/index.js';
export type { WorkerOptions } from './worker/options.js';
export type { Handler, Handlers, JobContext } from './worker/run-attempt.js';
export { TimeoutError } from './worker/run-attempt.js';
export { NonRetryableError, backoffDelayMs, resolveBackoff, type BackoffOptions } from './queue/retry.js';
export type { JobFilter, JobPage } from './queue/read.js';
export { Inspector } from './queue/inspector.js';
export { DEPTH_COUNT_CAP, type QueueOverview, type QueuePage, type QueuePageOptions, type DepthCount } from './queue/overview.js';
export { STATS_SAMPLE_CAP, type Throughput, type ThroughputBucket, type QueueStats, type WorkerOverview } from './queue/activity.js';
export { JobSearchSchema, type JobSearch, type JobSearchPage } from './queue/search.js';
export { RetryFilterSchema, type RetryFilter, type BulkRetryResult } from './queue/retry-now.js';
export { DagListSchema, type DagListFilter, type DagRunPage } from './dag/list.js';
export type { EnqueueResult } from './queue/enqueue.js';
export type { EnqueuePolicy } from './queue/enqueue-policies.js';
export type { Balance, LedgerPage, LedgerQuery, QuotaSpec, QuotaUnit, WalletEntry, WalletEntryKind } from './queue/quota.js';
export {
  JoblineError,
  ValidationError,
  NotFoundError,
  DuplicateError,
  ForeignKeyError,
  ConflictError,
  MigrationError,
  type FieldIssue,
} from './db/errors.js';
export { JobState, ExecutionState, type Job, type JobExecution, type JobError, type WorkerInfo } from './db/rows.js';
export { migrate, migrationsCurrent, readMigrations, MIGRATIONS_DIR, RENUMBERED, type MigrationFile, type MigrateResult } from './db/migrate.js';
export { migrationStatus, pendingSql, type MigrationStatus } from './db/migrate-status.js';
export { assertNotNewer, readApplied, type AppliedMigration } from './db/schema-version.js';
export { statementHistogram, labelled, deriveName as deriveStatementName, type QueryLogOptions } from './db/query-log.js';
export { describeSchema, renderSchemaMarkdown, undocumented, type SchemaDoc } from './db/schema-docs.js';
export { createPool, withTransaction, pgTypes, type Queryable } from './db/pool.js';
export { PoolerMode, type ConnectionOptions } from './db/connection-options.js';
export type { Topology } from './topology.js';
export { wakeSubject } from './events/wakeups.js';
export { EmbeddedUnavailableError } from './db/embedded.js';
export { quoteSchema } from './db/identifiers.js';
export * from './schemas.js';
export { JobEvent } from './events/outbox.js';
export { Relay, type RelayStats } from './events/relay.js';
export { tailEvents, type TailOptions, type TailSource } from './events/tail.js';
export { outboxBacklog, type OutboxBacklog } from './events/outbox-read.js';
export { toEnvelope } from './events/envelope.js';
export type { EventsOptions, ResolvedEventsOptions } from './events/options.js';
export type { JoblineEvent, EventFilter } from '@jobline/contracts';
export { defaultLogger } from './logger.js';
export { VERSION } from './version.js';
export * from './definitions/index.js';
export type { DefinitionJobSpec, EnqueueSpec } from './jobline.js';
export { MetricsRegistry, Counter, Gauge, Histogram, registerProcessMetrics, type MetricSeries } from './observability/metrics.js';
export { mirrorMetricsToOpenTelemetry } from './observability/otel-metrics.js';
export { createAppLogger, prettyLine, type AppLoggerOptions } from './observability/log.js';
export { roleGrants, TABLE_PRIVILEGES, type RoleKind } from './db/roles.js';
export { QueueConfigSchema, type QueueConfig, type QueueSettings } from './queue/queue-config.js';
export * from './schedule/index.js';
export * from './executors/index.js';
export { DefinitionCache } from './definitions/cache.js';
export { currentTraceparent, tracingState, type TracingState } from './observability/trace-status.js';
export { isValidTraceparent } from './observability/traceparent.js';
