import { NotFoundError, ValidationError } from '../db/errors.js';
import type { Queryable } from '../db/pool.js';
import { JOB_COLUMNS, mapExecution, mapJob, type Job, type JobExecution, type JobExecutionRow, type JobRow } from '../model/job.js';
import type { JobState } from '../model/states.js';

export async function getJob(db: Queryable, s: string, id: number): Promise<Job> {
  const { rows } = await db.query<JobRow>(`select ${JOB_COLUMNS} from ${s}.jobs where id = $1`, [id]);
  if (!rows.length) throw new NotFoundError('job', id);
  return mapJob(rows[0]);
}

export interface JobFilter {
  queue?: string;
  state?: JobState;
  /** @default 50, at most 1000 */
  limit?: number;
  /** Opaque cursor from a previous page's `nextCursor`. */
  cursor?: string;
}

export interface JobPage {
  jobs: Job[];
  /** Pass as `cursor` for the next page; absent on the last page. */
  nextCursor?: string;
}

/** Newest first, keyset-paginated on id so deep pages cost the same as the first. */
export async function listJobs(db: Queryable, s: string, f: JobFilter): Promise<JobPage> {
  const limit = Math.min(Math.max(f.limit ?? 50, 1), 1000);
  const before = f.cursor === undefined ? null : Number(Buffer.from(f.cursor, 'base64url').toString());
  if (before !== null && !Number.isSafeInteger(before)) {
    throw ValidationError.field('cursor', 'is not a cursor from a previous page; pass nextCursor unchanged or omit it');
  }
  const { rows } = await db.query<JobRow>(
    `select ${JOB_COLUMNS} from ${s}.jobs
      where ($1::text is null or queue = $1) and ($2::text is null or state = $2)
        and ($3::bigint is null or id < $3)
      order by id desc limit $4`,
    [f.queue ?? null, f.state ?? null, before, limit + 1],
  );
  const jobs = rows.slice(0, limit).map(mapJob);
  const nextCursor = rows.length > limit ? Buffer.from(String(jobs.at(-1)!.id)).toString('base64url') : undefined;
  return { jobs, nextCursor };
}

/** The execution history of a job, one row per attempt, oldest first. */
export async function listExecutions(db: Queryable, s: string, jobId: number): Promise<JobExecution[]> {
  const { rows } = await db.query<JobExecutionRow>(
    `select job_id, attempt, worker_id, state, started_at, finished_at, duration_ms, output, error
       from ${s}.job_executions where job_id = $1 order by attempt`,
    [jobId],
  );
  if (!rows.length) await getJob(db, s, jobId); // NotFoundError for unknown ids, [] for unstarted jobs
  return rows.map(mapExecution);
}
