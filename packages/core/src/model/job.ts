/**
 * Job, execution and worker rows: the snake_case row types that queries return
 * (`db.query<JobRow>(…)`), the camelCase objects callers see, and the one mapping per table
 * between them — jsonb parsed by pg, timestamps as Date, nullable columns as optional fields
 * (absent rather than null), bigint ids as numbers (db/pool.ts parses int8).
 */
import type { ExecutionState, JobState } from './states.js';

/** The error recorded for a failed attempt. */
export interface JobError {
  message: string;
  name?: string;
  stack?: string;
  retryable?: boolean;
  code?: string;
  [key: string]: unknown;
}

/** A job as the library returns it. The HTTP API sends the same shape as JSON (dates as ISO text). */
export interface Job<I = unknown, O = unknown> {
  id: number;
  queue: string;
  name: string;
  state: JobState;
  priority: number;
  runAt: Date;
  attempt: number;
  maxAttempts: number;
  timeoutMs: number;
  input: I;
  output?: O;
  error?: JobError;
  progress?: number;
  idempotencyKey?: string;
  definition?: string;
  dagRunId?: number;
  dagNodeKey?: string;
  workerId?: string;
  traceparent?: string;
  /** The job's group (e.g. a tenant), when it has one. */
  group?: string;
  /** For an available job that cannot start now, why (group_limit, rate_limit, quota, queue_paused); set by getJob only. */
  waitingReason?: 'group_limit' | 'rate_limit' | 'quota' | 'queue_paused';
  /** enqueue({ singletonKey }): no other unfinished job of the queue carries this key. */
  singletonKey?: string;
  createdAt: Date;
  claimedAt?: Date;
  startedAt?: Date;
  heartbeatAt?: Date;
  completedAt?: Date;
  updatedAt: Date;
}

/** A `jobs` row as selected with `JOB_COLUMNS`. */
export interface JobRow {
  id: number;
  queue: string;
  name: string;
  state: JobState;
  priority: number;
  run_at: Date;
  attempt: number;
  max_attempts: number;
  timeout_ms: number;
  input: unknown;
  output: unknown | null;
  error: JobError | null;
  progress: number | null;
  idempotency_key: string | null;
  definition: string | null;
  dag_run_id: number | null;
  dag_node_key: string | null;
  worker_id: string | null;
  traceparent: string | null;
  group_key: string | null;
  singleton_key: string | null;
  created_at: Date;
  claimed_at: Date | null;
  started_at: Date | null;
  heartbeat_at: Date | null;
  completed_at: Date | null;
  updated_at: Date;
}

export interface JobExecution {
  jobId: number;
  attempt: number;
  workerId?: string;
  state: ExecutionState;
  startedAt?: Date;
  finishedAt: Date;
  durationMs?: number;
  output?: unknown;
  error?: JobError;
}

/** A `job_executions` row. */
export interface JobExecutionRow {
  job_id: number;
  attempt: number;
  worker_id: string | null;
  state: ExecutionState;
  started_at: Date | null;
  finished_at: Date;
  duration_ms: number | null;
  output: unknown | null;
  error: JobError | null;
}

export interface WorkerInfo {
  id: string;
  hostname: string;
  pid: number;
  queues: string[];
  concurrency: number;
  startedAt: Date;
  heartbeatAt: Date;
  stoppedAt?: Date;
  version: string;
  /** Executor kinds it runs (handler, process, container). */
  executors: string[];
  /** Most resources one job may ask of it; {} = no limit. */
  resources: Record<string, number>;
}

/** A `workers` row (`executors` and `resources` came with migration 0004; older selects omit them). */
export interface WorkerRow {
  id: string;
  hostname: string;
  pid: number;
  queues: string[];
  concurrency: number;
  started_at: Date;
  heartbeat_at: Date;
  stopped_at: Date | null;
  version: string;
  executors?: string[] | null;
  resources?: Record<string, number> | null;
}

export const opt = <T>(v: T | null): T | undefined => (v === null ? undefined : v);

export const JOB_COLUMNS = `id, queue, name, state, priority, run_at, attempt, max_attempts, timeout_ms, input,
  output, error, progress, idempotency_key, definition, dag_run_id, dag_node_key, worker_id, traceparent,
  group_key, singleton_key, created_at, claimed_at, started_at, heartbeat_at, completed_at, updated_at`;

export function mapJob(r: JobRow): Job {
  return {
    id: r.id,
    queue: r.queue,
    name: r.name,
    state: r.state,
    priority: r.priority,
    runAt: r.run_at,
    attempt: r.attempt,
    maxAttempts: r.max_attempts,
    timeoutMs: r.timeout_ms,
    input: r.input,
    output: opt(r.output),
    error: opt(r.error),
    progress: opt(r.progress),
    idempotencyKey: opt(r.idempotency_key),
    definition: opt(r.definition),
    dagRunId: opt(r.dag_run_id),
    dagNodeKey: opt(r.dag_node_key),
    workerId: opt(r.worker_id),
    traceparent: opt(r.traceparent),
    group: opt(r.group_key),
    singletonKey: opt(r.singleton_key),
    createdAt: r.created_at,
    claimedAt: opt(r.claimed_at),
    startedAt: opt(r.started_at),
    heartbeatAt: opt(r.heartbeat_at),
    completedAt: opt(r.completed_at),
    updatedAt: r.updated_at,
  };
}

export function mapExecution(r: JobExecutionRow): JobExecution {
  return {
    jobId: r.job_id,
    attempt: r.attempt,
    workerId: opt(r.worker_id),
    state: r.state,
    startedAt: opt(r.started_at),
    finishedAt: r.finished_at,
    durationMs: opt(r.duration_ms),
    output: opt(r.output),
    error: opt(r.error),
  };
}

export function mapWorker(r: WorkerRow): WorkerInfo {
  return {
    id: r.id,
    hostname: r.hostname,
    pid: r.pid,
    queues: r.queues,
    concurrency: r.concurrency,
    startedAt: r.started_at,
    heartbeatAt: r.heartbeat_at,
    stoppedAt: opt(r.stopped_at),
    version: r.version,
    executors: r.executors ?? ['handler'],
    resources: r.resources ?? {},
  };
}
