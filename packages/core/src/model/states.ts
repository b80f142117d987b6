/**
 * Every state machine of the schema, once: const objects whose values equal the CHECK
 * constraints of the migrations (test/model-states.test.ts reads them from a migrated schema),
 * and the derived sets that SQL and TypeScript test against. SQL renders these with `sql.ts`;
 * a state name is never retyped as a literal elsewhere.
 */

/** `jobs.state`. `waiting` is a DAG node's job whose parents are not done. */
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

/** The end of a job: it never changes state again (except by an explicit retry-now). */
export const JobFinished = [JobState.completed, JobState.failed, JobState.cancelled] as const;
export type JobFinishedState = (typeof JobFinished)[number];
/** Every state that is not finished. */
export const JobUnfinished = [JobState.scheduled, JobState.available, JobState.running, JobState.retryable, JobState.waiting] as const;
/** What a worker may claim (the partial claim index `jobs_claim_idx` is on exactly this). */
export const JobClaimable = [JobState.available] as const;
/** Due rows of these states are promoted to `available` by the leader (`jobs_due_idx`). */
export const JobPromotable = [JobState.scheduled, JobState.retryable] as const;
/** Not started: what a DAG's fail_fast policy cancels (running jobs finish). */
export const JobNotStarted = [JobState.waiting, JobState.available, JobState.scheduled, JobState.retryable] as const;
/** Finished without success. Retry-now takes these (single jobs) and `retryable` ones. */
export const JobUnsuccessful = [JobState.failed, JobState.cancelled] as const;
/** Queued or running outside a DAG's wait: what a schedule counts as an instance in flight. */
export const JobInFlight = [JobState.available, JobState.running, JobState.retryable] as const;
/** The three outcomes a completion writes. */
export const JobOutcomeState = [JobState.completed, JobState.failed, JobState.retryable] as const;
export type JobOutcomeState = (typeof JobOutcomeState)[number];

export const isJobFinished = (s: string): s is JobFinishedState => (JobFinished as readonly string[]).includes(s);

/** `job_executions.state`: how one attempt ended. */
export const ExecutionState = {
  completed: 'completed',
  /** The attempt failed; the job retries or fails (see jobs.state). */
  failed: 'failed',
  timedOut: 'timed_out',
  /** Its worker died; the rescuer ended it. */
  lost: 'lost',
  /** Its worker shut down and gave the job back. */
  released: 'released',
  cancelled: 'cancelled',
} as const;
export type ExecutionState = (typeof ExecutionState)[keyof typeof ExecutionState];

/** `dag_runs.state`: derived from node states when the last node ends. */
export const DagRunState = {
  running: 'running',
  succeeded: 'succeeded',
  failed: 'failed',
  cancelled: 'cancelled',
} as const;
export type DagRunState = (typeof DagRunState)[keyof typeof DagRunState];
export const DagRunFinished = [DagRunState.succeeded, DagRunState.failed, DagRunState.cancelled] as const;
/** Finished without success. */
export const DagRunUnsuccessful = [DagRunState.failed, DagRunState.cancelled] as const;

/**
 * `dag_nodes.state`. `waiting` → `available` (all parents succeeded; its job is claimable) → one of
 * the terminal states. `running` is reported by getDag from the job row (the claim path does
 * not touch dag_nodes, which keeps claiming as cheap for DAG jobs as for single jobs).
 */
export const DagNodeState = {
  waiting: 'waiting',
  available: 'available',
  running: 'running',
  succeeded: 'succeeded',
  failed: 'failed',
  cancelled: 'cancelled',
  skipped: 'skipped',
} as const;
export type DagNodeState = (typeof DagNodeState)[keyof typeof DagNodeState];
export const DagNodeTerminal = [DagNodeState.succeeded, DagNodeState.failed, DagNodeState.cancelled, DagNodeState.skipped] as const;
/** Nodes that may still change: a finishing job moves them to a terminal state. */
export const DagNodeOpen = [DagNodeState.waiting, DagNodeState.available, DagNodeState.running] as const;
/** Nodes whose job has not started: fail_fast cancels them. */
export const DagNodeNotStarted = [DagNodeState.waiting, DagNodeState.available] as const;

/** `dag_runs.failure_policy`. */
export const DagFailurePolicy = {
  /** A node that fails for good cancels every node that has not started; running nodes finish. */
  failFast: 'fail_fast',
  /** A node that fails for good skips only its descendants; independent branches run on. */
  continue: 'continue',
} as const;
export type DagFailurePolicy = (typeof DagFailurePolicy)[keyof typeof DagFailurePolicy];

/** `schedule_runs.status`: one occurrence of a schedule. */
export const RunStatus = {
  scheduled: 'scheduled',
  delayed: 'delayed',
  running: 'running',
  succeeded: 'succeeded',
  failed: 'failed',
  cancelled: 'cancelled',
  timedOut: 'timed_out',
  skipped: 'skipped',
  missed: 'missed',
} as const;
export type RunStatus = (typeof RunStatus)[keyof typeof RunStatus];
/** Runs the scheduler still drives (the partial index `schedule_runs_open_idx`). */
export const RunOpen = [RunStatus.scheduled, RunStatus.delayed, RunStatus.running] as const;
/** Runs waiting for their start (the partial index `schedule_runs_gate_idx`). */
export const RunPending = [RunStatus.scheduled, RunStatus.delayed] as const;
/** Runs that ran and ended: their finish actions run once (`schedule_runs_unhandled_idx`). */
export const RunEnded = [RunStatus.succeeded, RunStatus.failed, RunStatus.cancelled, RunStatus.timedOut] as const;
/** Ended without success: a retry action may start them again. */
export const RunRetryable = [RunStatus.failed, RunStatus.timedOut, RunStatus.cancelled] as const;
/** Never started: they do not count as a previous run. */
export const RunNotRun = [RunStatus.skipped, RunStatus.missed] as const;
/** Finished runs that set `completed_at` when the scheduler syncs them from their job. */
export const RunSyncedFinished = [RunStatus.succeeded, RunStatus.failed, RunStatus.cancelled] as const;

/** `schedule_runs.trigger`. */
export const RunTrigger = { cron: 'cron', catchUp: 'catch_up', manual: 'manual' } as const;
export type RunTrigger = (typeof RunTrigger)[keyof typeof RunTrigger];

/** `job_definitions.executor`. */
export const ExecutorKind = { handler: 'handler', process: 'process', container: 'container' } as const;
export type ExecutorKind = (typeof ExecutorKind)[keyof typeof ExecutorKind];
