import { labelled } from '../db/query-log.js';
import type { Queryable } from '../db/pool.js';
import { insertJobEvents } from '../events/outbox.js';
import { notStartedSql } from './enqueue-policies.js';
import { JobEvent } from '../model/events.js';
import type { JobRow } from '../model/job.js';
import { sqlList, sqlLit } from '../model/sql.js';
import { DagRunState, ExecutionState, JobFinished, JobPromotable, JobState } from '../model/states.js';

/**
 * The leader's maintenance statements: rescue, promotion and retention. Each works in bounded
 * batches (LIMIT … SKIP LOCKED) so it never holds many locks or competes with claimers.
 */

/**
 * Running jobs whose worker stopped heartbeating (or has no row) go back to `retryable`
 * (due now) or to `failed` when that was their last attempt. The history row records the
 * attempt as `lost` with the reason, and a `rescued` event is written — all in one statement.
 */
const rescueSql = (s: string) => `
  with lost as (
    select j.id from ${s}.jobs j
      left join ${s}.workers w on w.id = j.worker_id
     where j.state = ${sqlLit(JobState.running)}
       and (w.id is null or w.heartbeat_at < now() - $1 * interval '1 millisecond')
     order by j.id limit $2
     for update of j skip locked
  ), u as (
    update ${s}.jobs j
       set state = case when j.attempt >= j.max_attempts then ${sqlLit(JobState.failed)} else ${sqlLit(JobState.retryable)} end,
           run_at = now(),
           error = jsonb_build_object('name', 'WorkerLost', 'code', 'WORKER_LOST',
                     'message', 'worker ' || coalesce(j.worker_id, '(unknown)') ||
                                ' stopped heartbeating; the attempt was abandoned and rescued'),
           completed_at = case when j.attempt >= j.max_attempts then now() end,
           updated_at = now()
      from lost where j.id = lost.id
    returning j.*
  ), h as (
    insert into ${s}.job_executions (job_id, attempt, worker_id, state, started_at, finished_at, duration_ms, error)
    select id, attempt, worker_id, ${sqlLit(ExecutionState.lost)}, started_at, now(),
           extract(epoch from now() - started_at) * 1000, error from u
  ), ev as (
    ${insertJobEvents(s, `(select u.*, ${sqlLit(JobEvent.rescued)} as event, now() as finished_at, null::float8 as duration_ms from u)`)}
  )
  select id, state, dag_run_id, dag_node_key, attempt from u`;

export interface RescuedJob {
  id: number;
  state: typeof JobState.retryable | typeof JobState.failed;
  attempt: number;
  dagRunId?: number;
  dagNodeKey?: string;
}

export async function rescueLostJobs(db: Queryable, s: string, staleAfterMs: number, limit = 1000): Promise<RescuedJob[]> {
  const { rows } = await db.query<Pick<JobRow, 'id' | 'state' | 'dag_run_id' | 'dag_node_key' | 'attempt'>>(
    labelled('rescue', rescueSql(s), [staleAfterMs, limit]),
  );
  return rows.map((r) => ({
    id: r.id,
    state: r.state as RescuedJob['state'],
    attempt: r.attempt,
    dagRunId: r.dag_run_id ?? undefined,
    dagNodeKey: r.dag_node_key ?? undefined,
  }));
}

/** Due scheduled/retryable jobs become available; the queues that got work are notified. */
const promoteSql = (s: string) => `
  with due as (
    select id from ${s}.jobs
     where state in (${sqlList(JobPromotable)}) and run_at <= now()
     order by run_at limit $1
     for update skip locked
  ), u as (
    update ${s}.jobs j set state = ${sqlLit(JobState.available)}, updated_at = now()
      from due where j.id = due.id
    returning j.queue
  )
  select q.queue, pg_notify($2, q.queue) from (select distinct queue from u) q`;

export async function promoteDueJobs(db: Queryable, s: string, channel: string, limit = 5000): Promise<string[]> {
  const { rows } = await db.query(labelled('promote', promoteSql(s), [limit, channel]));
  return rows.map((r) => r.queue);
}

/** Deletes finished single jobs (and their history) older than the retention period. */
const retentionSql = (s: string) => `
  with old as (
    select id from ${s}.jobs
     where state in (${sqlList(JobFinished)}) and dag_run_id is null
       and completed_at < now() - $1 * interval '1 millisecond'
     order by completed_at limit $2
     for update skip locked
  ), gone as (
    delete from ${s}.jobs j using old where j.id = old.id returning j.id
  ), hist as (
    delete from ${s}.job_executions h using gone where h.job_id = gone.id
  )
  select count(*)::int as n from gone`;

/** Rows per retention statement; a pass repeats while a statement deletes a full batch. */
export const JOB_RETENTION_BATCH = 5000;
/** DAG runs per retention statement (each takes its nodes, jobs and history with it). */
export const DAG_RETENTION_BATCH = 100;

export async function deleteFinishedJobs(db: Queryable, s: string, olderThanMs: number, limit = JOB_RETENTION_BATCH): Promise<number> {
  const { rows } = await db.query(labelled('retention', retentionSql(s), [olderThanMs, limit]));
  return rows[0].n;
}

/**
 * Deletes DAG runs finished before the retention period, with their jobs, nodes (both by the
 * foreign keys' cascade) and history. A run counts as finished when its state is final and none of
 * its jobs is still going: a cancelled run lets its running nodes finish, and those are kept until
 * they have. Runs are whole units: never half a graph left behind for `getDag` to draw.
 */
const dagRetentionSql = (s: string) => `
  with old as (
    select r.id from ${s}.dag_runs r
     where r.finished_at < now() - $1 * interval '1 millisecond'
       and r.state <> ${sqlLit(DagRunState.running)}
       and not exists (select 1 from ${s}.jobs j
                        where j.dag_run_id = r.id and j.state not in (${sqlList(JobFinished)}))
     order by r.finished_at limit $2
     for update skip locked
  ), hist as (
    delete from ${s}.job_executions h using ${s}.jobs j, old
     where j.dag_run_id = old.id and h.job_id = j.id
  ), gone as (
    delete from ${s}.dag_runs r using old where r.id = old.id returning r.id
  )
  select count(*)::int as n from gone`;

export async function deleteFinishedDagRuns(db: Queryable, s: string, olderThanMs: number, limit = DAG_RETENTION_BATCH): Promise<number> {
  const { rows } = await db.query(labelled('dag retention', dagRetentionSql(s), [olderThanMs, limit]));
  return rows[0].n;
}

/** Rows of workers that stopped (or vanished) long ago; their jobs were rescued by then. */
export async function deleteGoneWorkers(db: Queryable, s: string, olderThanMs: number): Promise<number> {
  const { rowCount } = await db.query(
    `delete from ${s}.workers where heartbeat_at < now() - $1 * interval '1 millisecond'
       and not exists (select 1 from ${s}.jobs j where j.worker_id = workers.id and j.state = ${sqlLit(JobState.running)})`,
    [olderThanMs],
  );
  return rowCount ?? 0;
}

/** Rows per window-pruning statement; a pass repeats while a statement deletes a full batch. */
export const WINDOW_PRUNE_BATCH = 5000;

/**
 * Rate windows (0007) whose newest start is older than their period: every start in them is
 * outside the window, so no claim counts them and deleting the row changes no limit. Rows of a
 * queue without that limit any more (period unset, or the queue gone) are read by no claim and go
 * too; a limit set again starts with an empty window. The grouped claim writes these rows without
 * this statement's lock (under the queue's advisory lock): a row it is writing is skipped, and one
 * it wrote after this statement's snapshot is re-checked on its new version by FOR UPDATE (the
 * fresh start keeps it); a claim's upsert after the delete simply inserts the row again.
 */
const pruneRateWindowsSql = (s: string) => `
  with old as (
    select w.queue, w.group_key from ${s}.rate_windows w
      left join ${s}.queues q on q.name = w.queue
     where not exists (select 1 from unnest(w.starts) t
                        where t > now() - (case when w.group_key = '' then q.rate_period_ms else q.group_rate_period_ms end)
                                          * interval '1 millisecond')
     limit $1
     for update of w skip locked
  )
  delete from ${s}.rate_windows w using old where w.queue = old.queue and w.group_key = old.group_key`;

export async function pruneRateWindows(db: Queryable, s: string, limit = WINDOW_PRUNE_BATCH): Promise<number> {
  return (await db.query(labelled('prune rate windows', pruneRateWindowsSql(s), [limit]))).rowCount ?? 0;
}

/**
 * Throttle/debounce windows (0008) that no enqueue reads any more: a throttle window that ended
 * (the next enqueue opens a new one either way), a debounce window that ended and whose job is no
 * longer pending. A debounce window's job that has not started (workers busy or stopped) is still
 * replaced by the next enqueue even after `ends_at` (enqueue-policies.ts), so that row stays until
 * the job starts — the predicate is replacePending's (`notStartedSql`); a started job (attempt ≥ 1) never becomes
 * pending again, so the decision cannot be undone. Enqueuers serialise on an advisory lock and
 * upsert the row: one that lost the row to this delete inserts it again.
 */
const pruneEnqueueWindowsSql = (s: string) => `
  with old as (
    select w.queue, w.kind, w.key from ${s}.enqueue_windows w
     where w.ends_at < now()
       and (w.kind = 'throttle' or w.job_id is null or not exists (
             select 1 from ${s}.jobs j
              where j.id = w.job_id and ${notStartedSql('j')}))
     limit $1
     for update of w skip locked
  )
  delete from ${s}.enqueue_windows w using old where w.queue = old.queue and w.kind = old.kind and w.key = old.key`;

export async function pruneEnqueueWindows(db: Queryable, s: string, limit = WINDOW_PRUNE_BATCH): Promise<number> {
  return (await db.query(labelled('prune enqueue windows', pruneEnqueueWindowsSql(s), [limit]))).rowCount ?? 0;
}
