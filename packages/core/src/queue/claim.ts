import { quoteSchema } from '../db/identifiers.js';
import type pg from 'pg';
import { withTransaction, type Queryable } from '../db/pool.js';
import { JOB_COLUMNS, mapJob, type Job, type JobRow } from '../model/job.js';
import { insertJobEvents } from '../events/outbox.js';
import { JobEvent } from '../model/events.js';
import { sqlLit } from '../model/sql.js';
import { JobState } from '../model/states.js';
import type { ClaimFilter } from '../executors/types.js';

/**
 * Claims up to `limit` available jobs from `queues` in one statement: priority ascending (lower
 * runs first), then oldest run_at, then id. SKIP LOCKED lets any number of workers claim at
 * once without waiting on each other; the partial index `jobs_claim_idx` holds only available
 * rows, so finished jobs never lengthen this scan (measured: 1M finished + 1M future-scheduled
 * rows in the table cost a 20k-job drain 16%, 14.2k → 12.0k jobs/s). Paused queues are skipped.
 * The `started` event is written by the same statement.
 *
 * The update finds its rows with `j.ctid = any(array(select ctid from next))`, not a join with
 * `next`: the statement is prepared, and once PostgreSQL switches to the generic plan (which
 * cannot size `limit $2`) statistics of a large backlog made it hash-join a sequential scan of
 * the whole table — 28–50 ms per claim instead of 4–8 ms. An array keeps every plan on a direct
 * lookup (bench steady state 5.4k → 13.0k jobs/s, with ids). The ctid of the locked version (a row
 * changed meanwhile is followed to its new version by the lock, and re-checked) saves the
 * primary-key descent per job that ids needed: 3,715 → 3,383 buffers per claim of 200 in the groups
 * bench's plain run (pg_stat_statements). The claim keeps its custom plans (planned each call,
 * ~0.5 ms of ~4 ms): the generic plan's guess for `limit $2` is costlier, see bench/README.md.
 *
 * Candidate rows: with one queue the claim index is read in order and the scan stops after
 * `limit` rows. With several, `queue = any(…)` would read and sort every available row of those
 * queues (measured: the whole backlog per claim), so each queue is scanned in index order up to
 * `limit` and only the merged heads are sorted.
 */
type Variant = 'single' | 'after' | 'multi' | 'limited';

// ClaimFilter (what a worker can run) is defined by the executors that produce it.
export type { ClaimFilter } from '../executors/types.js';

/** A definition's numeric resource, 0 when absent or not a number. */
const resourceSql = (key: string) =>
  `coalesce(case when jsonb_typeof(d.resources->'${key}') = 'number' then (d.resources->>'${key}')::float8 end, 0)`;

/** True for definitions the filter's worker cannot run ($p = kinds, $p+1 = cpu, $p+2 = memoryMb; null = no limit). */
export const cannotRunSql = (p: number) =>
  `(d.executor <> all($${p}::text[]) or ${resourceSql('cpu')} > coalesce($${p + 1}::float8, 'infinity')
      or ${resourceSql('memoryMb')} > coalesce($${p + 2}::float8, 'infinity'))`;

/**
 * Jobs without a definition always fit; a job pinned to `name@version` is checked against that
 * version, a bare name against the latest. A definition that does not exist does not exclude the
 * job (the worker fails it with the lookup's error, as without a filter).
 */
// `jobs.definition`: the candidate scans leave the jobs table unaliased, so plans read as before.
const fitSql = (s: string, p: number) => `
          and (jobs.definition is null or not exists (
                select 1 from ${s}.job_definitions d
                 where d.name = split_part(jobs.definition, '@', 1)
                   and d.version = coalesce(nullif(split_part(jobs.definition, '@', 2), '')::int,
                                            (select max(m.version) from ${s}.job_definitions m where m.name = d.name))
                   and ${cannotRunSql(p)}))`;

/**
 * Jobs of a held group (quota exhausted, `job_groups.held_reason`) are passed over here too, not
 * only by the grouped claim: the worker routes a queue without group settings to the grouped claim
 * only once it re-reads its routing (up to 1 s later), and a tenant's whole backlog could start in
 * that second. A job without a group short-circuits the OR, so ungrouped work pays nothing.
 */
const notHeldSql = (s: string) => `
          and (jobs.group_key is null or not exists (
                select 1 from ${s}.job_groups g where g.key = jobs.group_key and g.held_reason is not null))`;

/** Where a worker's last claim ended, in claim order; the next claim may start after it. */
export interface ClaimCursor {
  priority: number;
  runAt: Date;
  id: number;
}

const candidatesSql = (s: string, variant: Variant, filtered: boolean) => {
  if (variant === 'single' || variant === 'after') {
    // 'after' seeks the claim index to just past the cursor: the dead entries of jobs claimed
    // before it (which an old snapshot keeps from being cleaned) are never walked.
    const after = variant === 'after' ? `and (priority, run_at, id) > ($4::int, $5::timestamptz, $6::bigint)` : '';
    const fit = filtered ? fitSql(s, variant === 'after' ? 7 : 4) : '';
    return `select ctid from ${s}.jobs
        where state = ${sqlLit(JobState.available)} and queue = ($1::text[])[1] and run_at <= now() ${after} ${fit} ${notHeldSql(s)}
          and not exists (select 1 from ${s}.queues q where q.name = ($1::text[])[1] and (q.paused or q.grouped_claims))
        order by priority, run_at, id limit $2
        for update skip locked`;
  }
  // Queues with a concurrency_limit claim at most (limit − running) jobs. The caller holds a
  // per-queue advisory lock for the transaction, so the count cannot race another claimer.
  const perQueueLimit =
    variant === 'limited'
      ? `case when q.concurrency_limit is null then $2
              else greatest(0, least($2, q.concurrency_limit -
                     (select count(*) from ${s}.jobs r where r.state = ${sqlLit(JobState.running)} and r.queue = wanted.queue))) end`
      : '$2';
  return `select c.ctid from unnest($1::text[]) as wanted(queue)
         left join ${s}.queues q on q.name = wanted.queue,
         lateral (select ctid, priority, run_at, id from ${s}.jobs
                   where state = ${sqlLit(JobState.available)} and queue = wanted.queue and run_at <= now() ${filtered ? fitSql(s, 4) : ''} ${notHeldSql(s)}
                   order by priority, run_at, id limit ${perQueueLimit} for update skip locked) c
        where not coalesce(q.paused or q.grouped_claims, false)
        order by c.priority, c.run_at, c.id limit $2`;
};

const claimSql = (s: string, variant: Variant, filtered: boolean) => `
  with next as (${candidatesSql(s, variant, filtered)}
  ), claimed as (
    update ${s}.jobs j
       set state = ${sqlLit(JobState.running)}, attempt = j.attempt + 1, worker_id = $3,
           claimed_at = now(), started_at = now(), heartbeat_at = null, updated_at = now()
     where j.ctid = any(array(select ctid from next))
    returning j.*
  ), ev as (
    ${insertJobEvents(
      s,
      `(select c.*, ${sqlLit(JobEvent.started)} as event, null::timestamptz as finished_at,
                                 null::float8 as duration_ms from claimed c)`,
    )}
  )
  select ${JOB_COLUMNS} from claimed order by priority, run_at, id`;

export type Claimer = (
  pool: pg.Pool,
  queues: string[],
  limit: number,
  workerId: string,
  limitedQueues?: readonly string[],
  /** Claim only jobs after this position (one queue, no concurrency limit); see `claimRescanMs`. */
  after?: ClaimCursor,
  /** Claim only jobs this worker can run. */
  filter?: ClaimFilter,
) => Promise<Job[]>;

export function makeClaimer(schema: string): Claimer {
  const s = quoteSchema(schema);
  // Named statements are parsed and planned once per connection.
  const stmts = new Map<string, { name: string; text: string }>();
  const stmt = (variant: Variant, filtered: boolean) => {
    const key = `${variant}${filtered ? '_fit' : ''}`;
    let st = stmts.get(key);
    if (!st) stmts.set(key, (st = { name: `jobline_claim_${key}_${schema}`, text: claimSql(s, variant, filtered) }));
    return st;
  };
  const run = async (db: Queryable, st: { name: string; text: string }, values: unknown[], filter?: ClaimFilter) =>
    (
      await db.query<JobRow>({ ...st, values: filter ? [...values, filter.kinds, filter.cpu ?? null, filter.memoryMb ?? null] : values })
    ).rows.map(mapJob);

  return async (pool, queues, limit, workerId, limitedQueues = [], after, filter) => {
    if (limit <= 0) return [];
    const f = filter !== undefined;
    if (!limitedQueues.length) {
      if (queues.length === 1 && after)
        return run(pool, stmt('after', f), [queues, limit, workerId, after.priority, after.runAt, after.id], filter);
      return run(pool, stmt(queues.length === 1 ? 'single' : 'multi', f), [queues, limit, workerId], filter);
    }
    return withTransaction(pool, async (tx) => {
      // Sorted, so two workers never wait on each other's locks in opposite orders.
      await tx.query('select pg_advisory_xact_lock(hashtext($1 || q)) from unnest($2::text[]) q order by q', [
        `jobline.queue:${schema}:`,
        [...limitedQueues].sort(),
      ]);
      return run(tx, stmt('limited', f), [queues, limit, workerId], filter);
    });
  };
}

/** Whether any definition exists that a worker with this filter cannot run (then its claims filter). */
export async function anyDefinitionBeyond(db: Queryable, s: string, f: ClaimFilter): Promise<boolean> {
  const { rows } = await db.query(`select exists (select 1 from ${s}.job_definitions d where ${cannotRunSql(1)}) as beyond`, [
    f.kinds,
    f.cpu ?? null,
    f.memoryMb ?? null,
  ]);
  return rows[0].beyond === true;
}
