import { hostname } from 'node:os';
import type { Queryable } from '../db/pool.js';

/**
 * The worker's own row in `workers`. Registration and heartbeat are the same upsert — one write
 * per worker per interval, never per job — and it revives a row the rescuer gave up on (a paused
 * worker that resumes), so the worker is live again for the jobs it claims from then on.
 */
export async function registerWorker(
  db: Queryable,
  s: string,
  w: { id: string; queues: string[]; concurrency: number; version: string; executors: string[]; resources: object },
): Promise<void> {
  await db.query(
    `insert into ${s}.workers (id, hostname, pid, queues, concurrency, version, executors, resources)
     values ($1, $2, $3, $4, $5, $6, $7, $8)
     on conflict (id) do update set heartbeat_at = now(), stopped_at = null`,
    [w.id, hostname(), process.pid, w.queues, w.concurrency, w.version, w.executors, JSON.stringify(w.resources)],
  );
}

/** Workers alive now: not stopped, heartbeat fresher than `staleAfterMs` (the rescuer's test, inverted). */
export async function liveWorkerIds(db: Queryable, s: string, staleAfterMs: number): Promise<Set<string>> {
  const { rows } = await db.query<{ id: string }>(
    `select id from ${s}.workers where stopped_at is null and heartbeat_at >= now() - $1 * interval '1 millisecond'`,
    [staleAfterMs],
  );
  return new Set(rows.map((r) => r.id));
}

export async function markWorkerStopped(db: Queryable, s: string, id: string): Promise<void> {
  await db.query(`update ${s}.workers set stopped_at = now() where id = $1`, [id]);
}
