/**
 * Read models for the dashboard's overview: queues with their depth by state, the last hour's
 * throughput, failure rate and pickup latency, and table-size estimates. Everything here is
 * bounded, so a dashboard may poll it every few seconds against millions of jobs and thousands
 * of queues: queues come a page at a time (a skip scan of the (queue, state, id) index, one probe
 * per queue), depth counts stop at a cap and are extrapolated from id density beyond it, the
 * hour's statistics read at most a fixed number of recently finished jobs, and table sizes are
 * PostgreSQL's own estimates (pg_class.reltuples). Results say which numbers are estimates.
 */
import type { Queryable } from '../db/pool.js';
import { JobState } from '../db/rows.js';

/** Depth counts are exact up to this many jobs per (queue, state). */
export const DEPTH_COUNT_CAP = 10_000;
/** The hour's statistics read at most this many finished jobs (newest first). */
export const STATS_SAMPLE_CAP = 50_000;

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
    return [...o.only].filter((q) => q > after && q.startsWith(prefix)).sort().slice(0, o.limit + 1);
  }
  // A recursive "skip scan": one index probe per distinct queue instead of reading every job.
  // With a prefix it starts at the prefix and stops at the first name without it (names that
  // share a prefix sort together), so a filter costs what the page does, never a scan of the
  // names after it. The inner limit stops the recursion once the page is full.
  const { rows } = await db.query(
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
  return rows.map((r) => r.name as string);
}

/** A page of queues with depth by state, settings and the oldest available job. */
export async function queueOverview(db: Queryable, s: string, options: QueuePageOptions = {}): Promise<QueuePage> {
  const limit = Math.min(Math.max(options.limit ?? 50, 1), 200);
  const names = await queueNames(db, s, { ...options, limit });
  const page = names.slice(0, limit);
  if (!page.length) return { queues: [] };
  const [counts, settings, oldest] = await Promise.all([
    db.query(
      `select q.name, st.state,
              (select count(*) from (select 1 from ${s}.jobs j where j.queue = q.name and j.state = st.state limit $3) x)::int as n
         from unnest($1::text[]) q(name) cross join unnest($2::text[]) st(state)`,
      [page, STATES, DEPTH_COUNT_CAP + 1],
    ),
    db.query(`select name, paused, concurrency_limit from ${s}.queues where name = any($1::text[])`, [page]),
    db.query(
      `select q.name, o.id, o.run_at, extract(epoch from now() - o.run_at) * 1000 as age_ms
         from unnest($1::text[]) q(name)
         cross join lateral (select id, run_at from ${s}.jobs j where j.queue = q.name and j.state = 'available'
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
    byName.get(r.name)!.depth[r.state as JobState] = { n: r.n, estimated: false };
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
  const { rows } = await db.query(
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

export interface QueueStats {
  queue: string;
  completed: number;
  failed: number;
  cancelled: number;
  /** failed / (completed + failed); undefined without finished jobs. */
  failureRate?: number;
  /** Due time (`run_at`) → start of the attempt that finished, in ms. */
  pickupP50Ms?: number;
  pickupP99Ms?: number;
}

export interface ThroughputBucket {
  /** Start of the minute. */
  t: Date;
  completed: number;
  failed: number;
}

export interface Throughput {
  windowMs: number;
  /** One bucket per minute of the window that had finished jobs, oldest first. */
  series: ThroughputBucket[];
  /** Per queue, busiest first. */
  queues: QueueStats[];
  /** How many finished jobs were read; `sampled` = the cap was reached, so only the newest `sampleSize` count. */
  sampleSize: number;
  sampled: boolean;
}

/**
 * The last `windowMs` of finished jobs (by `completed_at`, read through the partial index on
 * finished rows): completions and failures per minute, and per queue counts, failure rate and
 * pickup latency. At most STATS_SAMPLE_CAP jobs are read; past that the numbers cover only the
 * newest ones, and `sampled` says so.
 */
export async function throughput(db: Queryable, s: string, o: { windowMs?: number; only?: readonly string[] } = {}): Promise<Throughput> {
  const windowMs = o.windowMs ?? 3_600_000;
  const { rows } = await db.query(
    `with f as (
        select queue, state, completed_at, extract(epoch from started_at - run_at) * 1000 as pickup_ms
          from ${s}.jobs
         where state in ('completed', 'failed', 'cancelled') and completed_at > now() - $1 * interval '1 millisecond'
           and ($2::text[] is null or queue = any($2::text[]))
         order by completed_at desc limit $3
      )
      select 'series' as kind, null as queue, date_trunc('minute', completed_at) as t,
             count(*) filter (where state = 'completed')::int as completed, count(*) filter (where state = 'failed')::int as failed,
             0 as cancelled, null::float8 as p50, null::float8 as p99, count(*)::int as n
        from f group by 3
      union all
      select 'queue', queue, null, count(*) filter (where state = 'completed')::int, count(*) filter (where state = 'failed')::int,
             count(*) filter (where state = 'cancelled')::int,
             percentile_cont(0.5) within group (order by greatest(pickup_ms, 0)),
             percentile_cont(0.99) within group (order by greatest(pickup_ms, 0)), count(*)::int
        from f group by queue`,
    [windowMs, o.only ? [...o.only] : null, STATS_SAMPLE_CAP],
  );
  const series = rows
    .filter((r) => r.kind === 'series')
    .map((r) => ({ t: r.t as Date, completed: r.completed, failed: r.failed }))
    .sort((a, b) => a.t.getTime() - b.t.getTime());
  const queues = rows
    .filter((r) => r.kind === 'queue')
    .map((r): QueueStats => {
      const done = r.completed + r.failed;
      return {
        queue: r.queue,
        completed: r.completed,
        failed: r.failed,
        cancelled: r.cancelled,
        ...(done ? { failureRate: r.failed / done } : {}),
        ...(r.p50 === null ? {} : { pickupP50Ms: Math.round(r.p50 * 10) / 10, pickupP99Ms: Math.round(r.p99 * 10) / 10 }),
      };
    })
    .sort((a, b) => b.completed + b.failed - (a.completed + a.failed));
  const sampleSize = series.reduce((n, b) => n + b.completed + b.failed, 0) + queues.reduce((n, q) => n + q.cancelled, 0);
  return { windowMs, series, queues, sampleSize, sampled: sampleSize >= STATS_SAMPLE_CAP };
}

export interface WorkerOverview {
  id: string;
  hostname: string;
  pid: number;
  queues: string[];
  concurrency: number;
  version: string;
  startedAt: Date;
  heartbeatAt: Date;
  heartbeatAgeMs: number;
  /** Jobs this worker is running now. */
  inFlight: number;
}

/**
 * Workers that have not stopped, most recent heartbeat first (a stale heartbeat means the worker
 * is gone and its jobs are about to be rescued), with their running jobs counted through the
 * partial index on running jobs.
 */
export async function workerOverview(db: Queryable, s: string, limit = 100): Promise<WorkerOverview[]> {
  const { rows } = await db.query(
    `select w.id, w.hostname, w.pid, w.queues, w.concurrency, w.version, w.started_at, w.heartbeat_at,
            extract(epoch from now() - w.heartbeat_at) * 1000 as age_ms,
            (select count(*) from ${s}.jobs j where j.worker_id = w.id and j.state = 'running')::int as in_flight
       from ${s}.workers w where w.stopped_at is null
      order by w.heartbeat_at desc limit $1`,
    [Math.min(Math.max(limit, 1), 1000)],
  );
  return rows.map((r) => ({
    id: r.id,
    hostname: r.hostname,
    pid: r.pid,
    queues: r.queues,
    concurrency: r.concurrency,
    version: r.version,
    startedAt: r.started_at,
    heartbeatAt: r.heartbeat_at,
    heartbeatAgeMs: Math.max(0, Math.round(Number(r.age_ms))),
    inFlight: r.in_flight,
  }));
}

/** Row counts of the big tables as PostgreSQL estimates them (pg_class.reltuples; -1 = never analysed). */
export async function tableEstimates(db: Queryable, s: string): Promise<Record<'jobs' | 'jobExecutions' | 'dagRuns', number>> {
  const { rows } = await db.query(
    `select c.relname, c.reltuples::float8 as n from pg_class c
      where c.oid in (to_regclass($1 || '.jobs'), to_regclass($1 || '.job_executions'), to_regclass($1 || '.dag_runs'))`,
    [s],
  );
  const get = (name: string) => Math.round(Number(rows.find((r) => r.relname === name)?.n ?? -1));
  return { jobs: get('jobs'), jobExecutions: get('job_executions'), dagRuns: get('dag_runs') };
}
