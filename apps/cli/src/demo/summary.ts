import type { Queryable } from '@jobline/core';

export interface QueueSummary {
  queue: string;
  jobs: number;
  done: number;
  failed: number;
  /** Jobs that needed more than one attempt. */
  retried: number;
  /** From the first enqueue to the last completion in the queue. */
  spanMs: number;
  /** Enqueue → first attempt started. */
  p50WaitMs: number;
  p99WaitMs: number;
  p50RunMs: number;
}

/** Per-queue outcome of the demo, from the jobs and their execution history. */
export async function summarise(db: Queryable, s: string): Promise<QueueSummary[]> {
  const { rows } = await db.query(`
    select j.queue,
           count(*)::int as jobs,
           count(*) filter (where j.state = 'completed')::int as done,
           count(*) filter (where j.state = 'failed')::int as failed,
           count(*) filter (where j.attempt > 1)::int as retried,
           coalesce(extract(epoch from max(j.completed_at) - min(j.created_at)) * 1000, 0)::float8 as span_ms,
           coalesce(percentile_cont(0.5) within group (order by extract(epoch from e.started_at - j.created_at) * 1000), 0)::float8 as p50_wait_ms,
           coalesce(percentile_cont(0.99) within group (order by extract(epoch from e.started_at - j.created_at) * 1000), 0)::float8 as p99_wait_ms,
           coalesce(percentile_cont(0.5) within group (order by e.duration_ms), 0)::float8 as p50_run_ms
      from ${s}.jobs j
      left join ${s}.job_executions e on e.job_id = j.id and e.attempt = 1
     group by j.queue
     order by j.queue`);
  return rows.map((r) => ({
    queue: r.queue,
    jobs: r.jobs,
    done: r.done,
    failed: r.failed,
    retried: r.retried,
    spanMs: r.span_ms,
    p50WaitMs: r.p50_wait_ms,
    p99WaitMs: r.p99_wait_ms,
    p50RunMs: r.p50_run_ms,
  }));
}
