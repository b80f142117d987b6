/** DAG run and node rows, their camelCase shapes and mapping (queries live in dag/read.ts). */
import type { JobError } from './job.js';
import { opt } from './job.js';
import { DagNodeState, JobState, type DagFailurePolicy, type DagRunState } from './states.js';

export interface DagRun {
  id: number;
  name: string;
  state: DagRunState;
  failurePolicy: DagFailurePolicy;
  idempotencyKey?: string;
  nodeCount: number;
  /** Nodes in a terminal state (succeeded, failed, cancelled, skipped). */
  nodesDone: number;
  createdAt: Date;
  finishedAt?: Date;
}

/** A `dag_runs` row. */
export interface DagRunRow {
  id: number;
  name: string;
  state: DagRunState;
  failure_policy: DagFailurePolicy;
  idempotency_key: string | null;
  node_count: number;
  nodes_done: number;
  created_at: Date;
  finished_at: Date | null;
}

export const DAG_RUN_COLUMNS = 'id, name, state, failure_policy, idempotency_key, node_count, nodes_done, created_at, finished_at';

export function mapDagRun(r: DagRunRow): DagRun {
  return {
    id: r.id,
    name: r.name,
    state: r.state,
    failurePolicy: r.failure_policy,
    idempotencyKey: opt(r.idempotency_key),
    nodeCount: r.node_count,
    nodesDone: r.nodes_done,
    createdAt: r.created_at,
    finishedAt: opt(r.finished_at),
  };
}

export interface DagNode {
  key: string;
  jobId: number;
  queue: string;
  /** The job (handler) name. */
  name: string;
  /** Node state; `running` while its job runs. */
  state: DagNodeState;
  /** The state of the node's job row (e.g. `retryable` between attempts). */
  jobState: JobState;
  dependsOn: string[];
  children: string[];
  /** Parents that have not succeeded yet. */
  remainingDeps: number;
  attempt: number;
  maxAttempts: number;
  createdAt: Date;
  /** Start of the first attempt. */
  startedAt?: Date;
  finishedAt?: Date;
  workerId?: string;
  error?: JobError;
}

/** A `dag_nodes` row joined with its job (getDag's read). */
export interface DagNodeRow {
  key: string;
  job_id: number;
  state: DagNodeState;
  depends_on: string[];
  children: string[];
  remaining_deps: number;
  job_state: JobState;
  queue: string;
  name: string;
  attempt: number;
  max_attempts: number;
  created_at: Date;
  completed_at: Date | null;
  worker_id: string | null;
  error: JobError | null;
  /** The first attempt's start. */
  started_at: Date | null;
}

export function mapDagNode(r: DagNodeRow): DagNode {
  return {
    key: r.key,
    jobId: r.job_id,
    queue: r.queue,
    name: r.name,
    // dag_nodes never records `running` (the claim path does not touch it): derive it from the job.
    state: r.state === DagNodeState.available && r.job_state === JobState.running ? DagNodeState.running : r.state,
    jobState: r.job_state,
    dependsOn: r.depends_on,
    children: r.children,
    remainingDeps: r.remaining_deps,
    attempt: r.attempt,
    maxAttempts: r.max_attempts,
    createdAt: r.created_at,
    startedAt: opt(r.started_at),
    finishedAt: opt(r.completed_at),
    workerId: opt(r.worker_id),
    error: opt(r.error),
  };
}

/** `from` must succeed before `to` starts. */
export interface DagEdge {
  from: string;
  to: string;
}

export interface DagRunDetail extends DagRun {
  /** In submission order. */
  nodes: DagNode[];
  edges: DagEdge[];
}
