import { quoteSchema } from '../db/identifiers.js';
import type { Queryable } from '../db/pool.js';
import { JOB_COLUMNS, mapJob, type Job } from '../db/rows.js';
import { insertJobEvents } from '../events/outbox.js';

/**
 * Claims up to `limit` available jobs from `queues` in one statement: priority ascending (lower
 * runs first), then oldest run_at, then id. SKIP LOCKED lets any number of workers claim at
 * once without waiting on each other; the partial index `jobs_claim_idx` holds only available
 * rows, so finished jobs never lengthen this scan. Paused queues are skipped. The `started`
 * event is written by the same statement.
 */
const claimSql = (s: string) => `
  with next as (
    select id from ${s}.jobs
     where state = 'available' and queue = any($1::text[]) and run_at <= now()
       and not exists (select 1 from ${s}.queues q where q.name = jobs.queue and q.paused)
     order by priority, run_at, id
     limit $2
     for update skip locked
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
  const text = claimSql(quoteSchema(schema));
  // A named statement is parsed and planned once per connection.
  const name = `jobline_claim_${schema}`;
  return async (db: Queryable, queues: string[], limit: number, workerId: string): Promise<Job[]> => {
    if (limit <= 0) return [];
    const { rows } = await db.query({ name, text, values: [queues, limit, workerId] });
    return rows.map(mapJob);
  };
}
