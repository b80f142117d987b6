import { z } from 'zod';
import { ConflictError, NotFoundError } from '../db/errors.js';
import type { Queryable } from '../db/pool.js';
import { insertJobEvents } from '../events/outbox.js';
import { JobEvent } from '../model/events.js';
import { JOB_COLUMNS, mapJob, type Job, type JobRow } from '../model/job.js';
import { sqlList, sqlLit } from '../model/sql.js';
import { JobUnsuccessful, JobState } from '../model/states.js';
import { DateInput, JobName, QueueName, parseOrThrow } from '../schemas.js';

/**
 * "Retry now" (the dashboard's button, `jl.retry(id)`): a failed or cancelled job becomes
 * `available` at once, and a `retryable` one stops waiting for its backoff. The job keeps its id,
 * its attempt counter and its history — the next claim is attempt + 1, and `max_attempts` grows
 * to allow exactly that one more attempt when it was used up. No history row is written (no
 * attempt ran); the outbox gets a `retrying` event in the same statement, and workers are woken
 * by NOTIFY on the queue's channel when the transaction commits.
 *
 * Fenced by the row lock and the state: a job that is running, waiting or completed is left
 * alone, so two operators clicking at once retry it once. DAG jobs that failed or were cancelled
 * are refused: their run has already settled its descendants (skipped or cancelled) and its own
 * state; a DAG is re-run by submitting it again.
 */
const retrySql = (s: string) => `
  with old as (
    select id, state as old_state from ${s}.jobs where id = any($1::bigint[]) order by id for update
  ), u as (
    update ${s}.jobs j
       set state = ${sqlLit(JobState.available)}, run_at = now(), worker_id = null, completed_at = null, updated_at = now(),
           max_attempts = greatest(j.max_attempts, j.attempt + 1)
      from old
     where j.id = old.id
       and (old.old_state = ${sqlLit(JobState.retryable)} or (old.old_state in (${sqlList(JobUnsuccessful)}) and j.dag_run_id is null))
    returning j.*
  ), ev as (
    ${insertJobEvents(s, `(select u.*, ${sqlLit(JobEvent.retrying)} as event, null::timestamptz as finished_at, null::float8 as duration_ms from u)`)}
  ), n as (
    select pg_notify($2, q.queue) from (select distinct queue from u) q
  )
  select ${JOB_COLUMNS}, (select count(*) from n) as notified from u order by id`;

/** Retries the given jobs now; returns the ones that changed (others are left out). */
export async function retryJobs(db: Queryable, s: string, ids: number[], jobsChannel: string): Promise<Job[]> {
  if (!ids.length) return [];
  const { rows } = await db.query<JobRow>(retrySql(s), [ids, jobsChannel]);
  return rows.map(mapJob);
}

/** Single-job form with typed errors: unknown id → NotFoundError, a job that cannot be retried → ConflictError. */
export async function retryJob(db: Queryable, s: string, id: number, jobsChannel: string): Promise<Job> {
  const [job] = await retryJobs(db, s, [id], jobsChannel);
  if (job) return job;
  const { rows } = await db.query<Pick<JobRow, 'state' | 'dag_run_id'>>(`select state, dag_run_id from ${s}.jobs where id = $1`, [id]);
  if (!rows.length) throw new NotFoundError('job', id);
  const why =
    rows[0].dag_run_id !== null && (JobUnsuccessful as readonly string[]).includes(rows[0].state)
      ? `it belongs to DAG run ${rows[0].dag_run_id}, which has settled; submit the DAG again`
      : 'only failed, cancelled and retryable jobs can be retried';
  throw new ConflictError(`job ${id} is ${rows[0].state}: ${why}`, { jobId: id, state: rows[0].state });
}

/** Which failed (or cancelled) jobs a bulk retry takes; every field narrows the set. */
export const RetryFilterSchema = z.strictObject({
  queue: QueueName.optional(),
  name: JobName.optional(),
  state: z.enum(JobUnsuccessful).default(JobState.failed),
  /** Jobs created at or after this time. */
  createdAfter: DateInput.optional(),
  /** Jobs created before this time. */
  createdBefore: DateInput.optional(),
  /** At most this many jobs per call (newest first); call again for more. @default 1000 */
  limit: z.number().int().min(1).max(10_000).default(1000),
});
export type RetryFilter = z.input<typeof RetryFilterSchema>;

export interface BulkRetryResult {
  /** Jobs made available. */
  retried: number;
  /** Their ids, newest first. */
  ids: number[];
  /** True when the limit was reached: more jobs may match. */
  more: boolean;
}

/**
 * Bulk retry of a filtered set (one transaction). Rows another transaction holds are skipped
 * (SKIP LOCKED): they are being changed right now, and a second call takes them.
 */
export async function retryMatching(tx: Queryable, s: string, filter: RetryFilter, jobsChannel: string): Promise<BulkRetryResult> {
  const f = parseOrThrow(RetryFilterSchema, filter);
  const { rows } = await tx.query<Pick<JobRow, 'id'>>(
    `select id from ${s}.jobs
      where state = $1 and dag_run_id is null
        and ($2::text is null or queue = $2) and ($3::text is null or name = $3)
        and ($4::timestamptz is null or created_at >= $4) and ($5::timestamptz is null or created_at < $5)
      order by id desc limit $6 for update skip locked`,
    [f.state, f.queue ?? null, f.name ?? null, f.createdAfter ?? null, f.createdBefore ?? null, f.limit],
  );
  const jobs = await retryJobs(
    tx,
    s,
    rows.map((r) => r.id),
    jobsChannel,
  );
  return { retried: jobs.length, ids: jobs.map((j) => j.id).reverse(), more: rows.length === f.limit };
}
