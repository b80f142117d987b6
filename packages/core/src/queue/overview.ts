/**
 * Read models for the dashboard's overview, part 1: queues with their depth by state (the last
 * hour's statistics, workers and table sizes are in activity.ts). Everything here and there is
 * bounded, so a dashboard may poll it every few seconds against millions of jobs and thousands
 * of queues: queues come a page at a time (a skip scan of the (queue, state, id) index, one probe
 * per queue), depth counts stop at a cap and are extrapolated from id density beyond it, the
 * hour's statistics read at most a fixed number of recently finished jobs, and table sizes are
 * PostgreSQL's own estimates (pg_class.reltuples). Results say which numbers are estimates.
 */
import type { Queryable } from '../db/pool.js';
import { sqlLit } from '../model/sql.js';
import { JobState } from '../model/states.js';

/** Depth counts are exact up to this many jobs per (queue, state). */
export const DEPTH_COUNT_CAP = 10_000;

const STATES = Object.values(JobState);

export interface DepthCount {
  /** Exact when `estimated` is false; else extrapolated from the density of matching ids (the exact count passed the cap). */
  n: number;
  estimated: boolean;
}

export interface QueueOverview {
  name: string;
  paused: boolean;
  concurrencyLimit?: number;
  /** Jobs per state; states without jobs are absent. */
  depth: Partial<Record<JobState, DepthCount>>;
  /** The longest-waiting available job (lowest id): when it became due. */
  oldestAvailable?: { id: number; runAt: Date; ageMs: number };
}

export interface QueuePageOptions {
  /** Queues after this name (keyset pagination by name). */
  after?: string;
  /** @default 50, at most 200 */
  limit?: number;
  /** Only these queues (a queue-limited token); undefined = every queue. */
  only?: readonly string[];
  /** Queues whose name starts with this. */
  prefix?: string;
}

export interface QueuePage {
  queues: QueueOverview[];
  /** Pass as `after` for the next page; absent on the last page. */
  nextAfter?: string;
}

/** Queue names after `after`: configured queues and queues that have jobs, by name. */
async function queueNames(db: Queryable, s: string, o: Required<Pick<QueuePageOptions, 'limit'>> & QueuePageOptions): Promise<string[]> {
  const after = o.after ?? '';
  const prefix = o.prefix ?? '';
  if (o.only) {
    return [...o.only]
      .filter((q) => q > after && q.startsWith(prefix))
      .sort()
      .slice(0, o.limit + 1);
  }
  // A recursive "skip scan": one index probe per distinct queue instead of reading every job.
  // With a prefix it starts at the prefix and stops at the first name without it (names that
  // share a prefix sort together), so a filter costs what the page does, never a scan of the
  // names after it. The inner limit stops the recursion once the page is full.
  const { rows } = await db.query<{ name: string }>(
    `with recursive names(name) as (
        (select queue from ${s}.jobs where queue > $1 and queue >= $3 order by queue limit 1)
        union all
        select (select queue from ${s}.jobs where queue > n.name order by queue limit 1)
          from names n where n.name is not null and starts_with(n.name, $3)
      ), job_queues as (select name from names where name is not null and starts_with(name, $3) limit $2)
      select name from job_queues
      union
      (select name from ${s}.queues where name > $1 and starts_with(name, $3) order by name limit $2)
      order by name limit $2`,
    [after, o.limit + 1, prefix],
  );
  return rows.map((r) => r.name);
}

/** A page of queues with depth by state, settings and the oldest available job. */
export async function queueOverview(db: Queryable, s: string, options: QueuePageOptions = {}): Promise<QueuePage> {
  const limit = Math.min(Math.max(options.limit ?? 50, 1), 200);
  const names = await queueNames(db, s, { ...options, limit });
  const page = names.slice(0, limit);
  if (!page.length) return { queues: [] };
  const [counts, settings, oldest] = await Promise.all([
    db.query<{ name: string; state: JobState; n: number }>(
      `select q.name, st.state,
              (select count(*) from (select 1 from ${s}.jobs j where j.queue = q.name and j.state = st.state limit $3) x)::int as n
         from unnest($1::text[]) q(name) cross join unnest($2::text[]) st(state)`,
      [page, STATES, DEPTH_COUNT_CAP + 1],
    ),
    db.query<{ name: string; paused: boolean; concurrency_limit: number | null }>(
      `select name, paused, concurrency_limit from ${s}.queues where name = any($1::text[])`,
      [page],
    ),
    db.query<{ name: string; id: number; run_at: Date; age_ms: number | string }>(
      `select q.name, o.id, o.run_at, extract(epoch from now() - o.run_at) * 1000 as age_ms
         from unnest($1::text[]) q(name)
         cross join lateral (select id, run_at from ${s}.jobs j where j.queue = q.name and j.state = ${sqlLit(JobState.available)}
                              order by id limit 1) o`,
      [page],
    ),
  ]);
  const byName = new Map<string, QueueOverview>(page.map((name) => [name, { name, paused: false, depth: {} }]));
  for (const r of settings.rows) {
    const q = byName.get(r.name)!;
    q.paused = r.paused;
    if (r.concurrency_limit !== null) q.concurrencyLimit = r.concurrency_limit;
  }
  const capped: { queue: string; state: JobState }[] = [];
  for (const r of counts.rows) {
    if (r.n === 0) continue;
    byName.get(r.name)!.depth[r.state] = { n: r.n, estimated: false };
    if (r.n > DEPTH_COUNT_CAP) capped.push({ queue: r.name, state: r.state });
  }
  // Past the cap an exact count would read every matching index entry on each refresh.
  // Instead: the ids of the first and the cap-th matching job and the highest one (three probes
  // of the (queue, state, id) index) give the density of matching ids, extrapolated over their
  // whole range — exact for a contiguous backlog, and never more than the id range. (The
  // planner's estimate was tried first: it assumes queue and state independent and said 55k for
  // a 200k backlog among 500k finished jobs.)
  for (const c of capped) {
    byName.get(c.queue)!.depth[c.state] = { n: await extrapolatedCount(db, s, c.queue, c.state), estimated: true };
  }
  for (const r of oldest.rows) {
    byName.get(r.name)!.oldestAvailable = { id: r.id, runAt: r.run_at, ageMs: Math.max(0, Math.round(Number(r.age_ms))) };
  }
  return { queues: [...byName.values()], ...(names.length > limit ? { nextAfter: page.at(-1) } : {}) };
}

/** Matching jobs of a (queue, state) known to exceed the cap, extrapolated from id density (see above). */
async function extrapolatedCount(db: Queryable, s: string, queue: string, state: string): Promise<number> {
  const { rows } = await db.query<{ lo: number | null; cap_id: number | null; hi: number | null }>(
    `select (select id from ${s}.jobs where queue = $1 and state = $2 order by id limit 1) as lo,
            (select id from ${s}.jobs where queue = $1 and state = $2 order by id offset $3 - 1 limit 1) as cap_id,
            (select id from ${s}.jobs where queue = $1 and state = $2 order by id desc limit 1) as hi`,
    [queue, state, DEPTH_COUNT_CAP],
  );
  const { lo, cap_id: capId, hi } = rows[0];
  if (lo === null || capId === null || hi === null) return DEPTH_COUNT_CAP; // finished meanwhile
  const range = hi - lo + 1;
  const n = Math.round((DEPTH_COUNT_CAP * range) / (capId - lo + 1));
  return Math.max(DEPTH_COUNT_CAP + 1, Math.min(range, n));
}
