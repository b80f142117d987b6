import type { Queryable } from '../db/pool.js';

/** A queue as `jl.listQueues()` (and `GET /v1/queues`) shows it. */
export interface QueueInfo {
  name: string;
  paused: boolean;
  /** Unset = no limit. */
  concurrencyLimit?: number;
  /** Jobs per state; states without jobs are absent. */
  counts: Record<string, number>;
}

/**
 * Every queue that has a configuration row or jobs, with job counts per state. The counts read
 * the (queue, state, id) index; on tables with millions of finished rows this is an admin
 * query, not something to poll many times a second (dashboards use `jl.inspect.queues()`,
 * whose counts are capped).
 */
export async function listQueues(db: Queryable, s: string): Promise<QueueInfo[]> {
  const { rows } = await db.query<{ name: string; paused: boolean; concurrency_limit: number | null; counts: Record<string, number> }>(`
    with counts as (select queue, state, count(*)::int as n from ${s}.jobs group by queue, state)
    select coalesce(q.name, c.queue) as name, coalesce(q.paused, false) as paused, q.concurrency_limit,
           coalesce(jsonb_object_agg(c.state, c.n) filter (where c.state is not null), '{}'::jsonb) as counts
      from ${s}.queues q full join counts c on c.queue = q.name
     group by 1, 2, 3
     order by 1`);
  return rows.map((r) => ({
    name: r.name,
    paused: r.paused,
    ...(r.concurrency_limit === null ? {} : { concurrencyLimit: r.concurrency_limit }),
    counts: r.counts,
  }));
}
