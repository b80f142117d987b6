/**
 * The run row is the per-run mutex of DAG bookkeeping: every transaction that changes node states
 * of a run locks its dag_runs row first (runs in id order, so batches spanning runs cannot
 * deadlock), and counts the nodes it made terminal into `nodes_done`. The transaction that brings
 * `nodes_done` to `node_count` derives the run's final state from its nodes — exactly one does.
 */
import type { Queryable } from '../db/pool.js';
import { RUN_EVENT_BY_STATE } from '../model/events.js';
import type { DagRunRow } from '../model/dag.js';
import { sqlCase, sqlLit } from '../model/sql.js';
import { DagNodeState, DagRunState, type DagFailurePolicy } from '../model/states.js';
import { insertDagEvents } from './events.js';
import { statement } from './prepared.js';

export interface LockedRun {
  id: number;
  state: DagRunState;
  failurePolicy: DagFailurePolicy;
}

/**
 * A statement of its own on purpose: statements after it take their snapshot once the lock is
 * held, so they see every node change committed by the run's previous lock holder.
 */
const lockSql = statement((s) => `select id, state, failure_policy from ${s}.dag_runs where id = any($1::bigint[]) order by id for update`);

export async function lockRuns(db: Queryable, s: string, ids: number[]): Promise<Map<number, LockedRun>> {
  const { rows } = await db.query<Pick<DagRunRow, 'id' | 'state' | 'failure_policy'>>({ ...lockSql(s), values: [ids] });
  return new Map(rows.map((r) => [r.id, { id: r.id, state: r.state, failurePolicy: r.failure_policy }]));
}

/** failed if any node failed (skipped nodes imply one did), else cancelled if any was, else succeeded. */
const finishSql = statement(
  (s: string) => `
  with d as (
    select * from unnest($1::bigint[], $2::int[]) as d(id, n)
  ), u as (
    update ${s}.dag_runs r
       set nodes_done = r.nodes_done + d.n,
           state = case when r.nodes_done + d.n < r.node_count then r.state
                        else (select case when bool_or(x.state = ${sqlLit(DagNodeState.failed)}) then ${sqlLit(DagRunState.failed)}
                                          when bool_or(x.state = ${sqlLit(DagNodeState.cancelled)}) then ${sqlLit(DagRunState.cancelled)}
                                          else ${sqlLit(DagRunState.succeeded)} end
                                from ${s}.dag_nodes x where x.dag_run_id = r.id) end,
           finished_at = case when r.nodes_done + d.n >= r.node_count then now() end
      from d
     where r.id = d.id and r.state = ${sqlLit(DagRunState.running)}
    returning r.id, r.state
  ), ev as (
    ${insertDagEvents(
      s,
      `(select ${sqlCase('u.state', RUN_EVENT_BY_STATE)} as event, u.id as dag_run_id, u.state, null::text as node_key,
                                  null::bigint as job_id, 0 as ord from u where u.state <> ${sqlLit(DagRunState.running)})`,
    )}
  )
  select id, state from u`,
);

/** Adds the nodes each run finished in this transaction; returns the runs that ended, with their state. */
export async function finishRuns(db: Queryable, s: string, done: Map<number, number>): Promise<Map<number, DagRunState>> {
  const entries = [...done].filter(([, n]) => n > 0);
  if (!entries.length) return new Map();
  const { rows } = await db.query<Pick<DagRunRow, 'id' | 'state'>>({
    ...finishSql(s),
    values: [entries.map(([id]) => id), entries.map(([, n]) => n)],
  });
  return new Map(rows.filter((r) => r.state !== DagRunState.running).map((r) => [r.id, r.state]));
}

export function addCount(m: Map<number, number>, id: number, n = 1): void {
  m.set(id, (m.get(id) ?? 0) + n);
}
