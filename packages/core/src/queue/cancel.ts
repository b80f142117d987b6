import { ConflictError, NotFoundError } from '../db/errors.js';
import type { Queryable } from '../db/pool.js';
import { JobEvent } from '../model/events.js';
import { JOB_COLUMNS, mapJob, type Job, type JobRow } from '../model/job.js';
import { sqlList, sqlLit } from '../model/sql.js';
import { ExecutionState, JobFinished, JobState } from '../model/states.js';
import { insertJobEvents } from '../events/outbox.js';

/**
 * Cancels jobs that have not finished. A running attempt is closed in the history as
 * `cancelled` and its worker is told over NOTIFY to abort the handler's signal; whatever that
 * worker reports later is fenced off (the job is no longer running).
 */
const cancelSql = (s: string) => `
  with old as (
    select id, state as old_state from ${s}.jobs where id = any($1::bigint[]) for update
  ), u as (
    update ${s}.jobs j set state = ${sqlLit(JobState.cancelled)}, completed_at = now(), updated_at = now()
      from old
     where j.id = old.id and old.old_state not in (${sqlList(JobFinished)})
    returning j.*, old.old_state
  ), h as (
    insert into ${s}.job_executions (job_id, attempt, worker_id, state, started_at, finished_at, duration_ms, error)
    select id, attempt, worker_id, ${sqlLit(ExecutionState.cancelled)}, started_at, now(), extract(epoch from now() - started_at) * 1000,
           jsonb_build_object('name', 'Cancelled', 'code', 'CANCELLED', 'message', 'cancelled while running')
      from u where old_state = ${sqlLit(JobState.running)}
  ), ev as (
    ${insertJobEvents(s, `(select u.*, ${sqlLit(JobEvent.cancelled)} as event, now() as finished_at, null::float8 as duration_ms from u)`)}
  ), n as (
    select pg_notify($2, id::text) from u where old_state = ${sqlLit(JobState.running)}
  )
  select ${JOB_COLUMNS}, old_state, (select count(*) from n) as notified from u`;

export interface CancelledJob {
  job: ReturnType<typeof mapJob>;
  wasRunning: boolean;
}

/** Cancels the given jobs; returns the ones that changed (finished or unknown ids are left out). */
export async function cancelJobs(db: Queryable, s: string, ids: number[], cancelChannel: string): Promise<CancelledJob[]> {
  const { rows } = await db.query<JobRow & { old_state: JobState }>(cancelSql(s), [ids, cancelChannel]);
  return rows.map((r) => ({ job: mapJob(r), wasRunning: r.old_state === JobState.running }));
}

/** Single-job form with typed errors: unknown id → NotFoundError, already finished → ConflictError. */
export async function cancelJob(db: Queryable, s: string, id: number, cancelChannel: string): Promise<CancelledJob> {
  const [done] = await cancelJobs(db, s, [id], cancelChannel);
  if (done) return done;
  const { rows } = await db.query<Pick<JobRow, 'state'>>(`select state from ${s}.jobs where id = $1`, [id]);
  if (!rows.length) throw new NotFoundError('job', id);
  throw new ConflictError(`job ${id} is already ${rows[0].state}; only unfinished jobs can be cancelled`, {
    jobId: id,
    state: rows[0].state,
  });
}

export type { Job };
