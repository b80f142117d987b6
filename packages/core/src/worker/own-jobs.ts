import { sqlLit } from '../model/sql.js';
import { JobState } from '../model/states.js';
import type { Queryable } from '../db/pool.js';
import { releaseAttempts } from '../queue/release.js';

/** Jobs the database shows running under this worker's id (to find rows of a claim whose reply was lost). */
export async function runningJobsOf(db: Queryable, s: string, workerId: string): Promise<{ id: number; attempt: number }[]> {
  const { rows } = await db.query<{ id: number; attempt: number }>(
    `select id, attempt from ${s}.jobs where state = ${sqlLit(JobState.running)} and worker_id = $1`,
    [workerId],
  );
  return rows;
}

/**
 * Of these attempts, the ids whose job is no longer running at that attempt (cancelled, or
 * rescued and re-claimed). One indexed read; used when no cancel NOTIFY can arrive.
 */
export async function endedAttempts(db: Queryable, s: string, attempts: { id: number; attempt: number }[]): Promise<number[]> {
  const { rows } = await db.query<{ id: number }>(
    `select t.id from unnest($1::bigint[], $2::int[]) as t(id, attempt)
      where not exists (select 1 from ${s}.jobs j where j.id = t.id and j.attempt = t.attempt and j.state = ${sqlLit(JobState.running)})`,
    [attempts.map((a) => a.id), attempts.map((a) => a.attempt)],
  );
  return rows.map((r) => r.id);
}

/**
 * A claim that committed but whose reply was lost (the connection died after the commit: a
 * failover, a terminated backend, a partition) leaves jobs running under this worker's id
 * that it never started; its heartbeat is alive, so the rescuer would never return them. Found
 * by the failover scenario (a job stuck in 'running' for good). After a failed claim, with no
 * claim in flight, such rows are released (fenced by attempt) to be claimed again at once.
 */
export async function releaseOrphans(
  db: Queryable,
  s: string,
  jobsChannel: string,
  workerId: string,
  owned: ReadonlyMap<number, number>,
): Promise<{ jobs: number[]; released: number }> {
  const orphans = (await runningJobsOf(db, s, workerId)).filter((r) => owned.get(r.id) !== r.attempt);
  if (!orphans.length) return { jobs: [], released: 0 };
  return { jobs: orphans.map((o) => o.id), released: await releaseAttempts(db, s, orphans, workerId, jobsChannel) };
}
