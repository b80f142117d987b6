import { hostname } from 'node:os';
import type { Queryable } from '../db/pool.js';
import type { ExecutorHooks } from '../executors/types.js';

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

/**
 * What an executor may ask of its worker (executors/types.ts): the worker's id, who is alive, and
 * the scope its resources are labelled with (database and schema, so two deployments on one
 * container engine never touch each other's containers).
 */
export async function executorHooksFor(
  db: Queryable,
  s: string,
  schema: string,
  workerId: string,
  staleAfterMs: number,
): Promise<ExecutorHooks> {
  const { rows } = await db.query<{ db: string }>('select current_database() as db');
  return { workerId, scope: `${rows[0].db}/${schema}`, liveWorkerIds: () => liveWorkerIds(db, s, staleAfterMs) };
}

/** The worker's registration upsert, bound to what it advertises (its executors' kinds and resources). */
export function registrar(
  db: Queryable,
  s: string,
  w: { id: string; queues: string[]; concurrency: number; version: string },
  executors: { kinds: string[]; resources: object },
): () => Promise<void> {
  return () => registerWorker(db, s, { ...w, executors: executors.kinds, resources: executors.resources });
}
