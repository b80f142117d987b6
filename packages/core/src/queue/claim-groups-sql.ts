import { JOB_COLUMNS } from '../model/job.js';
import { insertJobEvents } from '../events/outbox.js';
import { cannotRunSql } from './claim.js';

/**
 * The grouped claim statement (issue 15), run by `claim-groups.ts` inside a transaction that first
 * took the queue's advisory lock. Parameters: $1 queue, $2 most jobs to claim, $3 worker id,
 * $4–$7 the group cursors (keys, priorities, run_ats, ids: arrays of one length, maybe empty),
 * $8–$10 the executor filter (when `filtered`).
 *
 * Why it is exact: only a claim moves a job into `running`, and every claim of a queue with group
 * or rate limits runs under the queue's lock (the plain claim skips such queues, see
 * `queues.grouped_claims`). This statement starts after the lock was granted, so its snapshot
 * (READ COMMITTED takes one per statement) already sees every earlier claim of the queue
 * committed; jobs that left `running` meanwhile can only make the counts too high, never too low.
 * Counting in the statement that also waited for the lock would not be exact: its snapshot would
 * predate the wait.
 *
 * How it is fair: the groups with available work are found with a loose index scan of
 * `jobs_group_claim_idx` (one descent per group, not one row per job), each group gets up to its
 * free slots of candidates in its own priority order, and the batch is cut from them round by
 * round: a group of weight w places w jobs per round (`ceil(rank / w)`), ties within a round go
 * to the most urgent, oldest head. A group with 100,000 queued jobs therefore gets one slot per
 * round like a group that just enqueued one job. Jobs without a group form one more group
 * (weight 1, no group limit, still under the queue's own limits).
 *
 * What it walks: the loose scan runs backwards (largest group key first), so each step lands on
 * the tail of a group's range — its newest jobs — and not on the head, where the index entries of
 * the jobs claimed by the last claims still lie until no snapshot can see them (a few hundred for
 * a group with a big backlog, each a heap visit: 363 buffers for the first step of a forward scan).
 * Each group's candidates start at its cursor when the worker has one (`group-cursors.ts`, $4–$7):
 * just past the last job it claimed of that group.
 *
 * What it locks: only the chosen jobs (`chosen`, FOR UPDATE SKIP LOCKED, found by their ctid from
 * the candidate scan: no second and third primary-key descent per job), not every candidate.
 * Ranking needs no lock: under the queue's lock no other claim of the queue runs, so the only
 * writers of its available rows are cancels, debounce replacements, retry-now and (for a queue
 * routed here only because a group is held) plain claims of other workers — a chosen row one of
 * them holds is skipped, one it changed meanwhile is followed to its new version and re-checked
 * (`state = 'available'`), and the batch is one job shorter. Locking every candidate wrote a lock
 * on each of them: up to $2 rows per group with work, cut to $2 claimed.
 *
 * Which index: each group's candidates are read from `jobs_group_claim_idx` by
 * `(group_key, priority, run_at, id) > (g.k, cursor…) and group_key <= g.k … order by group_key, …`,
 * which is `group_key = g.k` (from the cursor on) in a form the planner cannot answer from
 * `jobs_claim_idx`. With `= g.k` and statistics from a time with one big group (ANALYZE after a
 * tenant's bulk load), it estimated every row to match and walked the queue's whole
 * `jobs_claim_idx` range per group, filtering on group_key: 34 s for one claim of a 30,000-job
 * backlog with 1,000 groups (bench/experiments/groups-claim.mjs; 20–30 ms after).
 */
const fit = (s: string, filtered: boolean) =>
  filtered
    ? `and (jobs.definition is null or not exists (
          select 1 from ${s}.job_definitions d
           where d.name = split_part(jobs.definition, '@', 1)
             and d.version = coalesce(nullif(split_part(jobs.definition, '@', 2), '')::int,
                                      (select max(m.version) from ${s}.job_definitions m where m.name = d.name))
             and ${cannotRunSql(8)}))`
    : '';

/**
 * The CTEs shared by the claim and the look after a short claim: the claim's clock, settings,
 * groups, free slots.
 *
 * `clk` is the time the statement ran, read once (a volatile CTE is evaluated once). Not
 * `statement_timestamp()`: sent in one round trip with the lock (`claim-groups-trip.ts`) that is
 * the time the whole string arrived, before the lock wait, and a claim back-dated by its wait
 * would put its start (and its rate-window entry) before the finish of the job whose slot it took.
 */
export const groupStateSql = (s: string) => `
  clk(t) as (select clock_timestamp()),
  cfg as (
    select n.name, coalesce(q.paused, false) as paused, q.concurrency_limit, q.group_concurrency, q.group_tiers,
           q.rate_limit, q.rate_period_ms, q.group_rate_limit, q.group_rate_period_ms
      from (select $1::text as name) n left join ${s}.queues q on q.name = n.name
  ),
  gs(k) as (
    (select group_key from ${s}.jobs where state = 'available' and queue = $1 and group_key is not null
      order by group_key desc limit 1)
    union all
    select (select j.group_key from ${s}.jobs j
             where j.state = 'available' and j.queue = $1 and j.group_key < gs.k
             order by j.group_key desc limit 1)
      from gs where gs.k is not null
  ),
  run as (
    select group_key as k, count(*)::int as n from ${s}.jobs
     where state = 'running' and queue = $1 and group_key is not null
       and (select group_concurrency is not null or group_tiers is not null from cfg)
     group by group_key
  ),
  rw as (
    select w.group_key as k, w.starts,
           (select count(*)::int from unnest(w.starts) t
             where t >= (select t from clk) - (case when w.group_key = '' then c.rate_period_ms else c.group_rate_period_ms end) * interval '1 millisecond') as n
      from ${s}.rate_windows w, cfg c
     where w.queue = $1 and (c.rate_limit is not null or c.group_rate_limit is not null)
  ),
  g as (
    select gs.k, coalesce(jg.weight, 1) as w, jg.held_reason,
           case when c.group_tiers ? jg.tier then (c.group_tiers ->> jg.tier)::int else c.group_concurrency end
             - coalesce(run.n, 0) as conc_free,
           c.group_rate_limit - coalesce(rw.n, 0) as rate_free
      from gs cross join cfg c
      left join ${s}.job_groups jg on jg.key = gs.k
      left join run on run.k = gs.k
      left join rw on rw.k = gs.k
     where gs.k is not null
  ),
  qcap as (
    select case when c.paused then 0 else greatest(0, least($2,
             -- case, not coalesce: the counts are read only when the limit exists
             case when c.concurrency_limit is null then $2
                  else c.concurrency_limit - (select count(*) from ${s}.jobs r where r.state = 'running' and r.queue = $1) end,
             case when c.rate_limit is null then $2 else c.rate_limit - coalesce((select rw.n from rw where rw.k = ''), 0) end)) end as n
      from cfg c
  )`;

export const groupClaimSql = (s: string, filtered: boolean) => `
  with recursive ${groupStateSql(s)},
  cand as (
    select x.id, x.ctid, x.priority, x.run_at, g.w,
           row_number() over (partition by g.k order by x.priority, x.run_at, x.id) as rn
      from g left join unnest($4::text[], $5::int[], $6::timestamptz[], $7::bigint[]) as cur(k, p, r, i) on cur.k = g.k,
      lateral (
        select id, ctid, priority, run_at from ${s}.jobs
         where state = 'available' and queue = $1
           and (group_key, priority, run_at, id) > (g.k, coalesce(cur.p, -2147483648), coalesce(cur.r, '-infinity'), coalesce(cur.i, -9223372036854775808))
           and group_key <= g.k and run_at <= (select t from clk) ${fit(s, filtered)}
         order by group_key, priority, run_at, id
         limit greatest(0, least($2, coalesce(g.conc_free, $2), coalesce(g.rate_free, $2)))) x
     where g.held_reason is null
    union all
    select y.id, y.ctid, y.priority, y.run_at, 1, row_number() over (order by y.priority, y.run_at, y.id)
      from (select id, ctid, priority, run_at from ${s}.jobs
             where state = 'available' and queue = $1 and group_key is null and run_at <= (select t from clk) ${fit(s, filtered)}
             order by priority, run_at, id limit $2) y
  ),
  next as (
    select ctid from cand order by ceil(rn::numeric / w), priority, run_at, id limit (select n from qcap)
  ),
  chosen as (
    select ctid from ${s}.jobs where ctid = any(array(select ctid from next)) and state = 'available'
       for update skip locked
  ),
  claimed as (
    update ${s}.jobs j
       set state = 'running', attempt = j.attempt + 1, worker_id = $3,
           claimed_at = (select t from clk), started_at = (select t from clk), heartbeat_at = null, updated_at = (select t from clk)
     where j.ctid = any(array(select ctid from chosen))
    returning j.*
  ),
  ev as (
    ${insertJobEvents(
      s,
      `(select c.*, 'started' as event, null::timestamptz as finished_at,
                                 null::float8 as duration_ms from claimed c)`,
    )}
  ),
  queue_window as (
    insert into ${s}.rate_windows as w (queue, group_key, starts)
    select $1, '', array_agg((select t from clk)) from claimed
    having count(*) > 0 and (select rate_limit is not null from cfg)
    on conflict (queue, group_key) do update
       set starts = array(select t from unnest(w.starts) t
                           where t > (select t from clk) - (select rate_period_ms from cfg) * interval '1 millisecond') || excluded.starts
  ),
  group_windows as (
    insert into ${s}.rate_windows as w (queue, group_key, starts)
    select $1, group_key, array_agg((select t from clk)) from claimed
     where group_key is not null and (select group_rate_limit is not null from cfg)
     group by group_key
    on conflict (queue, group_key) do update
       set starts = array(select t from unnest(w.starts) t
                           where t > (select t from clk) - (select group_rate_period_ms from cfg) * interval '1 millisecond') || excluded.starts
  )
  select ${JOB_COLUMNS} from claimed order by priority, run_at, id`;

/**
 * After a short claim (same transaction, so it counts the jobs just claimed): whether a group
 * with work was at its concurrency limit (then a finishing job of the queue is worth a claim) and
 * when the first full rate window opens again (then the worker claims at that moment, not later
 * and not by spinning).
 */
export const groupWaitSql = (s: string) => `
  with recursive ${groupStateSql(s)}
  select exists (select 1 from g where g.held_reason is null and g.conc_free <= 0) as blocked,
         (select min(o.oldest + (case when rw.k = '' then c.rate_period_ms else c.group_rate_period_ms end) * interval '1 millisecond')
            from rw cross join cfg c
            cross join lateral (select min(t) as oldest from unnest(rw.starts) t
                                 where t >= (select t from clk) - (case when rw.k = '' then c.rate_period_ms else c.group_rate_period_ms end) * interval '1 millisecond') o
           where (rw.k = '' and rw.n >= c.rate_limit)
              or (rw.k <> '' and rw.n >= c.group_rate_limit and exists (select 1 from g where g.k = rw.k and g.held_reason is null))
         ) as next_at`;
