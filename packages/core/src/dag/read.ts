/** Reads of DAG runs: the run, every node with its job's state and timings, and the edges. */
import { NotFoundError } from '../db/errors.js';
import type { Queryable } from '../db/pool.js';
import type { JobError, JobState } from '../db/rows.js';
import type { DagFailurePolicy, DagNodeState, DagRunState } from './spec.js';

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

const opt = <T>(v: T | null): T | undefined => (v === null ? undefined : v);

export async function getDagRun(db: Queryable, s: string, id: number): Promise<DagRun> {
  const { rows } = await db.query(
    `select id, name, state, failure_policy, idempotency_key, node_count, nodes_done, created_at, finished_at
       from ${s}.dag_runs where id = $1`,
    [id],
  );
  if (!rows.length) throw new NotFoundError('DAG run', id);
  const r = rows[0];
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

export async function getDag(db: Queryable, s: string, id: number): Promise<DagRunDetail> {
  const run = await getDagRun(db, s, id);
  const { rows } = await db.query(
    `select n.key, n.job_id, n.state, n.depends_on, n.children, n.remaining_deps,
            j.state as job_state, j.queue, j.name, j.attempt, j.max_attempts, j.created_at, j.completed_at,
            j.worker_id, j.error,
            coalesce((select min(e.started_at) from ${s}.job_executions e where e.job_id = j.id), j.started_at) as started_at
       from ${s}.dag_nodes n left join ${s}.jobs j on j.id = n.job_id
      where n.dag_run_id = $1
      order by n.job_id`,
    [id],
  );
  const nodes: DagNode[] = rows.map((r) => ({
    key: r.key,
    jobId: r.job_id,
    queue: r.queue,
    name: r.name,
    state: r.state === 'available' && r.job_state === 'running' ? 'running' : r.state,
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
  }));
  const edges = nodes.flatMap((n) => n.dependsOn.map((from) => ({ from, to: n.key })));
  return { ...run, nodes, edges };
}
