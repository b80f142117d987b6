import { z } from 'zod';
import { ValidationError } from '../db/errors.js';
import type { Queryable } from '../db/pool.js';
import { JOB_COLUMNS, mapJob, type Job, type JobRow } from '../model/job.js';
import { JobState } from '../model/states.js';
import { DateInput, JobName, QueueName, parseOrThrow } from '../schemas.js';

/**
 * The dashboard's job search: `listJobs` with more filters (name, creation time), newest first,
 * keyset-paginated on id so page 1,000 costs what page 1 does. Queue + state go through the
 * (queue, state, id) index; name and time are filters on that scan (no index of their own: a
 * rare name in a huge queue reads more rows per page, never the table at once — `limit` bounds
 * the rows returned, and the id order lets PostgreSQL stop early).
 */
export const JobSearchSchema = z.strictObject({
  queue: QueueName.optional(),
  state: z.enum(Object.values(JobState) as [JobState, ...JobState[]]).optional(),
  name: JobName.optional(),
  createdAfter: DateInput.optional(),
  createdBefore: DateInput.optional(),
  /** Only jobs of this DAG run. */
  dagRunId: z.number().int().positive().optional(),
  /** @default 50 */
  limit: z.number().int().min(1).max(500).default(50),
  cursor: z.string().optional(),
});
export type JobSearch = z.input<typeof JobSearchSchema>;

export interface JobSearchPage {
  jobs: Job[];
  nextCursor?: string;
}

const encode = (id: number) => Buffer.from(String(id)).toString('base64url');

export async function searchJobs(db: Queryable, s: string, search: JobSearch): Promise<JobSearchPage> {
  const f = parseOrThrow(JobSearchSchema, search);
  const before = f.cursor === undefined ? null : Number(Buffer.from(f.cursor, 'base64url').toString());
  if (before !== null && !Number.isSafeInteger(before)) {
    throw ValidationError.field('cursor', 'is not a cursor from a previous page; pass nextCursor unchanged or omit it');
  }
  const { rows } = await db.query<JobRow>(
    `select ${JOB_COLUMNS} from ${s}.jobs
      where ($1::text is null or queue = $1) and ($2::text is null or state = $2) and ($3::text is null or name = $3)
        and ($4::timestamptz is null or created_at >= $4) and ($5::timestamptz is null or created_at < $5)
        and ($6::bigint is null or dag_run_id = $6) and ($7::bigint is null or id < $7)
      order by id desc limit $8`,
    [
      f.queue ?? null,
      f.state ?? null,
      f.name ?? null,
      f.createdAfter ?? null,
      f.createdBefore ?? null,
      f.dagRunId ?? null,
      before,
      f.limit + 1,
    ],
  );
  const jobs = rows.slice(0, f.limit).map(mapJob);
  return { jobs, ...(rows.length > f.limit ? { nextCursor: encode(jobs.at(-1)!.id) } : {}) };
}
