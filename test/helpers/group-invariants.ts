/**
 * Invariants of group limits, computed from the execution history (`job_executions`), the record
 * every attempt leaves whatever ended it (completed, failed, timed out, lost to a SIGKILL and
 * rescued, released, cancelled).
 */
import type pg from 'pg';

/**
 * The most attempts of each group that were running at the same instant: a sweep over the
 * attempts' [started_at, finished_at] intervals of the queue's jobs in `ids`, ends before starts
 * at equal times (an attempt that ended at t and one that started at t never ran together).
 */
export async function maxRunningPerGroup(db: Pick<pg.Pool, 'query'>, schema: string, ids: number[]): Promise<Record<string, number>> {
  const S = `"${schema}"`;
  const { rows } = await db.query(
    `with x as (select j.group_key as g, e.started_at, e.finished_at
                  from ${S}.job_executions e join ${S}.jobs j on j.id = e.job_id
                 where e.job_id = any($1::bigint[]) and j.group_key is not null and e.started_at is not null),
          ev as (select g, started_at as t, 1 as d from x union all select g, finished_at, -1 from x),
          run as (select g, sum(d) over (partition by g order by t, d rows unbounded preceding) as n from ev)
     select g, max(n)::int as peak from run group by g order by g`,
    [ids],
  );
  return Object.fromEntries(rows.map((r) => [r.g, r.peak]));
}

/**
 * Windows of `periodMs` that saw more than `limit` attempt starts, per group (`perGroup`) or for
 * the whole set: for each start, the start `limit` places later must be at least `periodMs` after
 * it. Returns the offending pairs (empty = the limit held in every window).
 */
export async function rateViolations(
  db: Pick<pg.Pool, 'query'>,
  schema: string,
  ids: number[],
  limit: number,
  periodMs: number,
  perGroup: boolean,
): Promise<{ g: string | null; from: Date; to: Date }[]> {
  const S = `"${schema}"`;
  const { rows } = await db.query(
    `with x as (select ${perGroup ? 'j.group_key' : 'null::text'} as g, e.started_at as t
                  from ${S}.job_executions e join ${S}.jobs j on j.id = e.job_id
                 where e.job_id = any($1::bigint[]) and e.started_at is not null),
          w as (select g, t, lead(t, $2) over (partition by g order by t) as later from x)
     select g, t as "from", later as "to" from w where later is not null and later - t < $3 * interval '1 millisecond'`,
    [ids, limit, periodMs],
  );
  return rows;
}

/** How many starts the busiest window of `periodMs` saw (for the report). */
export async function busiestWindow(
  db: Pick<pg.Pool, 'query'>,
  schema: string,
  ids: number[],
  periodMs: number,
  perGroup: boolean,
): Promise<number> {
  const S = `"${schema}"`;
  const { rows } = await db.query(
    `with x as (select ${perGroup ? 'j.group_key' : 'null::text'} as g, e.started_at as t
                  from ${S}.job_executions e join ${S}.jobs j on j.id = e.job_id
                 where e.job_id = any($1::bigint[]) and e.started_at is not null)
     select coalesce(max((select count(*) from x b where b.g is not distinct from a.g and b.t >= a.t and b.t < a.t + $2 * interval '1 millisecond')), 0)::int as n
       from x a`,
    [ids, periodMs],
  );
  return rows[0].n;
}
