/**
 * Read models for the dashboard's overview, part 2: the last hour's throughput, failure rate and
 * pickup latency; workers with their jobs in flight; table-size estimates. Bounded like
 * overview.ts: a fixed cap on the finished jobs read, the partial index on running jobs, and
 * PostgreSQL's own row estimates.
 */
import type { Queryable } from '../db/pool.js';
import type { WorkerRow } from '../model/job.js';
import { sqlList, sqlLit } from '../model/sql.js';
import { JobFinished, JobState } from '../model/states.js';

/** The hour's statistics read at most this many finished jobs (newest first). */
export const STATS_SAMPLE_CAP = 50_000;

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
  /** Pickup latency (due time → start) of the jobs finished in this minute, in ms. */
  pickupP50Ms?: number;
  pickupP99Ms?: number;
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
         where state in (${sqlList(JobFinished)}) and completed_at > now() - $1 * interval '1 millisecond'
           and ($2::text[] is null or queue = any($2::text[]))
         order by completed_at desc limit $3
      )
      select 'series' as kind, null as queue, date_trunc('minute', completed_at) as t,
             count(*) filter (where state = ${sqlLit(JobState.completed)})::int as completed, count(*) filter (where state = ${sqlLit(JobState.failed)})::int as failed,
             0 as cancelled,
             percentile_cont(0.5) within group (order by greatest(pickup_ms, 0)) filter (where state <> ${sqlLit(JobState.cancelled)}) as p50,
             percentile_cont(0.99) within group (order by greatest(pickup_ms, 0)) filter (where state <> ${sqlLit(JobState.cancelled)}) as p99, count(*)::int as n
        from f group by 3
      union all
      select 'queue', queue, null, count(*) filter (where state = ${sqlLit(JobState.completed)})::int, count(*) filter (where state = ${sqlLit(JobState.failed)})::int,
             count(*) filter (where state = ${sqlLit(JobState.cancelled)})::int,
             percentile_cont(0.5) within group (order by greatest(pickup_ms, 0)),
             percentile_cont(0.99) within group (order by greatest(pickup_ms, 0)), count(*)::int
        from f group by queue`,
    [windowMs, o.only ? [...o.only] : null, STATS_SAMPLE_CAP],
  );
  const series = rows
    .filter((r) => r.kind === 'series')
    .map(
      (r): ThroughputBucket => ({
        t: r.t,
        completed: r.completed,
        failed: r.failed,
        ...(r.p50 === null ? {} : { pickupP50Ms: Math.round(r.p50 * 10) / 10, pickupP99Ms: Math.round(r.p99 * 10) / 10 }),
      }),
    )
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
  const { rows } = await db.query<WorkerRow & { age_ms: number | string; in_flight: number }>(
    `select w.id, w.hostname, w.pid, w.queues, w.concurrency, w.version, w.started_at, w.heartbeat_at,
            extract(epoch from now() - w.heartbeat_at) * 1000 as age_ms,
            (select count(*) from ${s}.jobs j where j.worker_id = w.id and j.state = ${sqlLit(JobState.running)})::int as in_flight
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
  const { rows } = await db.query<{ relname: string; n: number }>(
    `select c.relname, c.reltuples::float8 as n from pg_class c
      where c.oid in (to_regclass($1 || '.jobs'), to_regclass($1 || '.job_executions'), to_regclass($1 || '.dag_runs'))`,
    [s],
  );
  const get = (name: string) => Math.round(Number(rows.find((r) => r.relname === name)?.n ?? -1));
  return { jobs: get('jobs'), jobExecutions: get('job_executions'), dagRuns: get('dag_runs') };
}
