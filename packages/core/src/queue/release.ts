import type { Queryable } from '../db/pool.js';
import { insertJobEvents } from '../events/outbox.js';
import { JobEvent } from '../model/events.js';
import { sqlLit } from '../model/sql.js';
import { ExecutionState, JobState } from '../model/states.js';
import { FENCE_RUNNING } from './complete.js';

/**
 * Gives running attempts back at shutdown (or a job this worker cannot run) so another worker takes them at once. Fenced like a
 * completion. The release does not use up an attempt (max_attempts grows by one), the history
 * row says `released`, and the event is `retrying` because the job will run again.
 */
const releaseSql = (s: string) => `
  with r as (
    select * from unnest($1::bigint[], $2::int[]) as r(id, attempt)
  ), u as (
    update ${s}.jobs j
       set state = ${sqlLit(JobState.available)}, worker_id = null, max_attempts = j.max_attempts + 1,
           run_at = now(), updated_at = now(),
           error = jsonb_build_object('name', 'Released', 'code', $5::text, 'message', $6::text)
      from r where j.id = r.id and j.attempt = r.attempt and ${FENCE_RUNNING}
    returning j.*
  ), h as (
    insert into ${s}.job_executions (job_id, attempt, worker_id, state, started_at, finished_at, duration_ms, error)
    select id, attempt, $3, ${sqlLit(ExecutionState.released)}, started_at, now(), extract(epoch from now() - started_at) * 1000, error from u
  ), ev as (
    ${insertJobEvents(s, `(select u.*, ${sqlLit(JobEvent.retrying)} as event, now() as finished_at, null::float8 as duration_ms from u)`)}
  ), n as (
    select pg_notify($4, q.queue) from (select distinct queue from u) q
  )
  select id, (select count(*) from n) as notified from u`;

export async function releaseAttempts(
  db: Queryable,
  s: string,
  attempts: { id: number; attempt: number }[],
  workerId: string,
  jobsChannel: string,
  /** Why, in the job's error and the history row. @default the worker shut down */
  reason: { code: string; message: string } = { code: 'RELEASED', message: 'the worker shut down before this attempt finished' },
): Promise<number> {
  if (!attempts.length) return 0;
  const { rows } = await db.query(releaseSql(s), [
    attempts.map((a) => a.id),
    attempts.map((a) => a.attempt),
    workerId,
    jobsChannel,
    reason.code,
    reason.message,
  ]);
  return rows.length;
}

/** Fenced per-job heartbeat and progress write; false when the attempt is no longer running. */
export async function touchAttempt(db: Queryable, s: string, id: number, attempt: number, progress: number | null): Promise<boolean> {
  const { rowCount } = await db.query(
    `update ${s}.jobs set heartbeat_at = now(), progress = coalesce($3, progress)
      where id = $1 and attempt = $2 and state = ${sqlLit(JobState.running)}`,
    [id, attempt, progress],
  );
  return rowCount === 1;
}
