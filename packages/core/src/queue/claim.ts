import { quoteSchema } from '../db/identifiers.js';
import type { Queryable } from '../db/pool.js';
import { JOB_COLUMNS, mapJob, type Job } from '../db/rows.js';
import { insertJobEvents } from '../events/outbox.js';

/**
 * Claims up to `limit` available jobs from `queues` in one statement: priority ascending (lower
 * runs first), then oldest run_at, then id. SKIP LOCKED lets any number of workers claim at
 * once without waiting on each other; the partial index `jobs_claim_idx` holds only available
 * rows, so finished jobs never lengthen this scan (measured: 1M finished + 1M future-scheduled
 * rows in the table cost a 20k-job drain 16%, 14.2k → 12.0k jobs/s). Paused queues are skipped.
 * The `started` event is written by the same statement.
 */
/**
 * The candidate rows. With one queue the claim index is read in order and the scan stops after
 * `limit` rows. With several, `queue = any(…)` would read and sort every available row of those
 * queues (measured: the whole backlog per claim), so each queue is scanned in index order up to
 * `limit` and only the merged heads are sorted.
 */
const candidatesSql = (s: string, multiQueue: boolean) =>
  multiQueue
    ? `select c.id from unnest($1::text[]) as wanted(queue),
         lateral (select id, priority, run_at from ${s}.jobs
                   where state = 'available' and queue = wanted.queue and run_at <= now()
                   order by priority, run_at, id limit $2 for update skip locked) c
        where not exists (select 1 from ${s}.queues q where q.name = wanted.queue and q.paused)
        order by c.priority, c.run_at, c.id limit $2`
    : `select id from ${s}.jobs
        where state = 'available' and queue = ($1::text[])[1] and run_at <= now()
          and not exists (select 1 from ${s}.queues q where q.name = ($1::text[])[1] and q.paused)
        order by priority, run_at, id limit $2
        for update skip locked`;

const claimSql = (s: string, multiQueue: boolean) => `
  with next as (${candidatesSql(s, multiQueue)}
  ), claimed as (
    update ${s}.jobs j
       set state = 'running', attempt = j.attempt + 1, worker_id = $3,
           claimed_at = now(), started_at = now(), heartbeat_at = null, updated_at = now()
      from next where j.id = next.id
    returning j.*
  ), ev as (
    ${insertJobEvents(s, `(select c.*, 'started' as event, null::timestamptz as finished_at,
                                 null::float8 as duration_ms from claimed c)`)}
  )
  select ${JOB_COLUMNS} from claimed order by priority, run_at, id`;

export function makeClaimer(schema: string) {
  const s = quoteSchema(schema);
  const single = { name: `jobline_claim1_${schema}`, text: claimSql(s, false) };
  const multi = { name: `jobline_claimn_${schema}`, text: claimSql(s, true) };
  // Named statements are parsed and planned once per connection.
  return async (db: Queryable, queues: string[], limit: number, workerId: string): Promise<Job[]> => {
    if (limit <= 0) return [];
    const stmt = queues.length === 1 ? single : multi;
    const { rows } = await db.query({ ...stmt, values: [queues, limit, workerId] });
    return rows.map(mapJob);
  };
}
