import type { Queryable } from '../db/pool.js';
import { JobState } from '../model/states.js';

/** How a queue's jobs fared, from the jobs and their first attempts (`jl.inspect.outcomes()`). */
export interface QueueOutcome {
  queue: string;
  jobs: number;
  completed: number;
  failed: number;
  /** Jobs that needed more than one attempt. */
  retried: number;
  /** From the first enqueue to the last completion in the queue. */
  spanMs: number;
  /** Enqueue → first attempt started. */
  p50WaitMs: number;
  p99WaitMs: number;
  /** First attempt's duration. */
  p50RunMs: number;
}

/**
 * Per-queue outcome over every job (`jobline demo` prints it). Unbounded: it reads every job
 * row, so it is for small or throwaway schemas, not for polling a production one.
 */
export async function queueOutcomes(db: Queryable, s: string): Promise<QueueOutcome[]> {
  const { rows } = await db.query(
    `
    select j.queue,
           count(*)::int as jobs,
           count(*) filter (where j.state = $1)::int as completed,
           count(*) filter (where j.state = $2)::int as failed,
           count(*) filter (where j.attempt > 1)::int as retried,
           coalesce(extract(epoch from max(j.completed_at) - min(j.created_at)) * 1000, 0)::float8 as span_ms,
           coalesce(percentile_cont(0.5) within group (order by extract(epoch from e.started_at - j.created_at) * 1000), 0)::float8 as p50_wait_ms,
           coalesce(percentile_cont(0.99) within group (order by extract(epoch from e.started_at - j.created_at) * 1000), 0)::float8 as p99_wait_ms,
           coalesce(percentile_cont(0.5) within group (order by e.duration_ms), 0)::float8 as p50_run_ms
      from ${s}.jobs j
      left join ${s}.job_executions e on e.job_id = j.id and e.attempt = 1
     group by j.queue
     order by j.queue`,
    [JobState.completed, JobState.failed],
  );
  return rows.map((r) => ({
    queue: r.queue,
    jobs: r.jobs,
    completed: r.completed,
    failed: r.failed,
    retried: r.retried,
    spanMs: r.span_ms,
    p50WaitMs: r.p50_wait_ms,
    p99WaitMs: r.p99_wait_ms,
    p50RunMs: r.p50_run_ms,
  }));
}
