/**
 * Row mapping, one place per table: snake_case columns → camelCase objects, jsonb parsed by pg,
 * timestamps as Date, nullable columns as optional fields (absent rather than null).
 */

export const JobState = {
  scheduled: 'scheduled',
  available: 'available',
  running: 'running',
  retryable: 'retryable',
  completed: 'completed',
  failed: 'failed',
  cancelled: 'cancelled',
  waiting: 'waiting',
} as const;
export type JobState = (typeof JobState)[keyof typeof JobState];

export const FINISHED_STATES: readonly JobState[] = ['completed', 'failed', 'cancelled'];

export const ExecutionState = {
  completed: 'completed',
  failed: 'failed',
  timedOut: 'timed_out',
  lost: 'lost',
  released: 'released',
  cancelled: 'cancelled',
} as const;
export type ExecutionState = (typeof ExecutionState)[keyof typeof ExecutionState];

/** The error recorded for a failed attempt. */
export interface JobError {
  message: string;
  name?: string;
  stack?: string;
  retryable?: boolean;
  code?: string;
  [key: string]: unknown;
}

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
  /** enqueue({ singletonKey }): no other unfinished job of the queue carries this key. */
  singletonKey?: string;
  createdAt: Date;
  claimedAt?: Date;
  startedAt?: Date;
  heartbeatAt?: Date;
  completedAt?: Date;
  updatedAt: Date;
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

type Row = Record<string, any>;
const opt = <T>(v: T | null): T | undefined => (v === null ? undefined : v);

export const JOB_COLUMNS = `id, queue, name, state, priority, run_at, attempt, max_attempts, timeout_ms, input,
  output, error, progress, idempotency_key, definition, dag_run_id, dag_node_key, worker_id, traceparent,
  group_key, singleton_key, created_at, claimed_at, started_at, heartbeat_at, completed_at, updated_at`;

export function mapJob(r: Row): Job {
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

export function mapExecution(r: Row): JobExecution {
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

export function mapWorker(r: Row): WorkerInfo {
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
