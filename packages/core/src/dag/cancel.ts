/**
 * cancelDag: cancels every node that has not finished. Jobs not yet started are cancelled;
 * running ones are cancelled through the job cancel path (history row `cancelled`, NOTIFY so
 * their worker aborts the handler's signal, later outcomes fenced off).
 *
 * Lock order matters here. A completing worker holds its jobs' row locks and then waits for the
 * run lock; cancelDag holds the run lock, so it must not wait for job row locks: it takes the
 * jobs it can with SKIP LOCKED and comes back (in a new transaction, after the holders committed)
 * for the few that were busy. Those were mid-completion or mid-claim, so the next pass finds
 * them finished or cancellable.
 */
import type pg from 'pg';
import { ConflictError, NotFoundError } from '../db/errors.js';
import { withTransaction, type Queryable } from '../db/pool.js';
import { backoffDelay } from '../lib/backoff.js';
import { cancelJobs } from '../queue/cancel.js';
import { DagEvent } from '../model/events.js';
import { sqlList, sqlLit } from '../model/sql.js';
import { DagNodeOpen, DagNodeState, DagRunState, JobFinished } from '../model/states.js';
import { insertDagEvents } from './events.js';
import { finishRuns, lockRuns } from './finish.js';

const MAX_PASSES = 100;

const cancelNodesSql = (s: string) => `
  with n as (
    update ${s}.dag_nodes n set state = ${sqlLit(DagNodeState.cancelled)}
     where n.dag_run_id = $1 and n.job_id = any($2::bigint[]) and n.state in (${sqlList(DagNodeOpen)})
    returning n.dag_run_id, n.key, n.job_id, n.state
  ), ev as (
    ${insertDagEvents(s, `(select ${sqlLit(DagEvent.nodeCancelled)} as event, n.dag_run_id, n.state, n.key as node_key, n.job_id, 0 as ord from n)`)}
  )
  select count(*)::int as n from n`;

/** One pass in one transaction; returns how many unfinished jobs it had to leave for the next pass. */
async function cancelPass(db: Queryable, s: string, cancelChannel: string, id: number, first: boolean): Promise<number> {
  const run = (await lockRuns(db, s, [id])).get(id);
  if (!run) throw new NotFoundError('DAG run', id);
  if (run.state !== DagRunState.running) {
    if (first)
      throw new ConflictError(`DAG run ${id} is already ${run.state}; only running runs can be cancelled`, {
        dagRunId: id,
        state: run.state,
      });
    return 0;
  }
  const { rows } = await db.query<{ id: number }>(
    `select id from ${s}.jobs where dag_run_id = $1 and state not in (${sqlList(JobFinished)})
      order by id for update skip locked`,
    [id],
  );
  const ids = rows.map((r) => r.id);
  if (ids.length) {
    const cancelled = await cancelJobs(db, s, ids, cancelChannel);
    const { rows: n } = await db.query<{ n: number }>(cancelNodesSql(s), [id, cancelled.map((c) => c.job.id)]);
    await finishRuns(db, s, new Map([[id, n[0].n]]));
  }
  const { rows: left } = await db.query<{ n: number }>(
    `select count(*)::int as n from ${s}.jobs where dag_run_id = $1 and state not in (${sqlList(JobFinished)})`,
    [id],
  );
  return left[0].n;
}

export async function cancelDag(pool: pg.Pool, s: string, cancelChannel: string, id: number): Promise<void> {
  for (let pass = 0; pass < MAX_PASSES; pass++) {
    const left = await withTransaction(pool, (tx) => cancelPass(tx, s, cancelChannel, id, pass === 0));
    if (left === 0) return;
    await new Promise((r) => setTimeout(r, backoffDelay(pass, { baseMs: 10, maxMs: 200 }))); // 10 ms doubling to 200 ms
  }
  throw new ConflictError(
    `DAG run ${id}: some nodes stayed locked by other transactions through ${MAX_PASSES} passes; call cancelDag again`,
    { dagRunId: id },
  );
}
