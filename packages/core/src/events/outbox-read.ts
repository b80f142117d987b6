import type { Queryable } from '../db/pool.js';
import type { OutboxRow, RelayRow } from './envelope.js';

const mapRow = (r: any): OutboxRow => ({
  id: r.id,
  type: r.type,
  subject: r.subject,
  jobId: r.job_id,
  dagRunId: r.dag_run_id,
  data: r.data,
  createdAt: r.created_at,
});

/**
 * The oldest `limit` rows, in id order, always from the start of the table. Ids are taken when a
 * statement inserts, and commits may land out of id order: a row that commits after a later id
 * was published is simply read by the next batch (rows leave only when acked). Each job's own
 * events can never be reordered this way: the job row is locked from one transition's insert
 * until its commit, so its next event gets a later id and commits later — and a read from the
 * start sees the earlier row in the same snapshot as the later one. (A cursor "id > last batch"
 * would skip dead index entries of deleted rows, 0.7 ms → 0.08 ms per read with 100k of them, but
 * it breaks exactly this: a late commit below the cursor would be published after its job's next
 * event. The event fault test caught that.)
 */
export async function readOutbox(db: Queryable, s: string, limit: number): Promise<RelayRow[]> {
  const { rows } = await db.query({
    name: `jobline_outbox_read_${s}`,
    text: `select id, type, subject, job_id, dag_run_id, (data - 'traceparent')::text as data_json,
                  data->>'traceparent' as traceparent,
                  to_char(created_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') as time
             from ${s}.events order by id limit $1`,
    values: [limit],
    // Rows as arrays: no per-row object keyed by column name on this path.
    rowMode: 'array',
  });
  return rows.map((r: unknown[]) => ({
    id: r[0] as number,
    type: r[1] as string,
    subject: r[2] as string,
    jobId: r[3] as number | null,
    dagRunId: r[4] as number | null,
    dataJson: r[5] as string,
    traceparent: r[6] as string | null,
    time: r[7] as string,
  }));
}

/** Removes rows JetStream acknowledged. */
export async function deleteEvents(db: Queryable, s: string, ids: number[]): Promise<number> {
  const { rowCount } = await db.query({
    name: `jobline_outbox_delete_${s}`,
    text: `delete from ${s}.events where id = any($1::bigint[])`,
    values: [ids],
  });
  return rowCount ?? 0;
}

export interface OutboxBacklog {
  /** Rows waiting, estimated as the id range (two index probes, never a scan). */
  rows: number;
  /** Age of the oldest waiting event; 0 when none wait. */
  oldestAgeMs: number;
}

/**
 * The outbox backlog. The id range counts ids taken by rolled-back inserts as well, so it is an
 * upper bound; it is exact while the relay keeps up, and cheap at any size (count(*) of a large
 * outbox is a full scan, the very moment the backlog matters).
 */
export async function outboxBacklog(db: Queryable, s: string): Promise<OutboxBacklog> {
  const { rows } = await db.query(
    `select o.id as min_id, (select max(id) from ${s}.events) as max_id,
            extract(epoch from now() - o.created_at) * 1000 as age_ms
       from (select id, created_at from ${s}.events order by id limit 1) o`,
  );
  if (!rows.length) return { rows: 0, oldestAgeMs: 0 };
  return { rows: rows[0].max_id - rows[0].min_id + 1, oldestAgeMs: Math.max(0, Math.round(Number(rows[0].age_ms))) };
}

/**
 * Rows after `afterId` whose subject matches `pattern` (a regular expression): the outbox
 * fallback of `tailEvents` when NATS is not configured.
 */
export async function readOutboxAfter(db: Queryable, s: string, afterId: number, pattern: string, limit: number): Promise<OutboxRow[]> {
  const { rows } = await db.query(
    `select id, type, subject, job_id, dag_run_id, data, created_at from ${s}.events
      where id > $1 and subject ~ $2 order by id limit $3`,
    [afterId, pattern, limit],
  );
  return rows.map(mapRow);
}

export async function maxOutboxId(db: Queryable, s: string): Promise<number> {
  const { rows } = await db.query(`select coalesce(max(id), 0) as id from ${s}.events`);
  return Number(rows[0].id);
}
