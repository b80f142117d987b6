/**
 * Failure policies, applied in the transaction where a node fails for good (or is cancelled):
 * `fail_fast` cancels every node of the run whose job has not started (running jobs finish, and
 * the run ends once they have); `continue` skips the failed node's descendants only. Skipped and
 * fail-fast-cancelled jobs are `cancelled` job rows with an error saying why.
 */
import type { Queryable } from '../db/pool.js';
import { insertJobEvents } from '../events/outbox.js';
import { JobEvent } from '../model/events.js';
import { sqlList, sqlLit } from '../model/sql.js';
import { DagNodeNotStarted, DagNodeState, JobNotStarted, JobState } from '../model/states.js';
import { insertDagEvents, nodeEventFor } from './events.js';

const jobCancelledEvents = (s: string, source: string) =>
  insertJobEvents(
    s,
    `(select ${source}.*, ${sqlLit(JobEvent.cancelled)} as event, now() as finished_at, null::float8 as duration_ms from ${source})`,
  );

const nodeEvents = (s: string) =>
  insertDagEvents(s, `(select ${nodeEventFor('n.state')} as event, n.dag_run_id, n.state, n.key as node_key, n.job_id, 0 as ord from n)`);

const failFastSql = (s: string) => `
  with f as (
    select * from unnest($1::bigint[], $2::text[]) as f(dag_run_id, key)
  ), j as (
    update ${s}.jobs j
       set state = ${sqlLit(JobState.cancelled)}, completed_at = now(), updated_at = now(),
           error = jsonb_build_object('name', 'Cancelled', 'code', 'DAG_FAIL_FAST',
             'message', 'node "' || f.key || '" of this DAG run failed and the run''s failure policy is fail_fast: nodes that had not started were cancelled')
      from f
     where j.dag_run_id = f.dag_run_id and j.state in (${sqlList(JobNotStarted)})
    returning j.*
  ), n as (
    update ${s}.dag_nodes n set state = ${sqlLit(DagNodeState.cancelled)}
      from j
     where n.dag_run_id = j.dag_run_id and n.key = j.dag_node_key and n.state in (${sqlList(DagNodeNotStarted)})
    returning n.dag_run_id, n.key, n.job_id, n.state
  ), jev as (${jobCancelledEvents(s, 'j')}
  ), dev as (${nodeEvents(s)})
  select dag_run_id, count(*)::int as n from n group by dag_run_id`;

// UNION (not UNION ALL) visits each descendant once, however many paths lead to it.
const skipDescendantsSql = (s: string) => `
  with recursive f as (
    select * from unnest($1::bigint[], $2::text[]) as f(dag_run_id, key)
  ), d(dag_run_id, key) as (
    select n.dag_run_id, c.key
      from f join ${s}.dag_nodes n on n.dag_run_id = f.dag_run_id and n.key = f.key
      cross join unnest(n.children) as c(key)
    union
    select n.dag_run_id, c.key
      from d join ${s}.dag_nodes n on n.dag_run_id = d.dag_run_id and n.key = d.key
      cross join unnest(n.children) as c(key)
  ), n as (
    update ${s}.dag_nodes n set state = ${sqlLit(DagNodeState.skipped)}
      from d
     where n.dag_run_id = d.dag_run_id and n.key = d.key and n.state = ${sqlLit(DagNodeState.waiting)}
    returning n.dag_run_id, n.key, n.job_id, n.state
  ), j as (
    update ${s}.jobs j
       set state = ${sqlLit(JobState.cancelled)}, completed_at = now(), updated_at = now(),
           error = jsonb_build_object('name', 'Skipped', 'code', 'DAG_SKIPPED',
             'message', 'an upstream node of this DAG run failed or was cancelled, so this node was skipped (failure policy continue)')
      from n
     where j.id = n.job_id and j.state = ${sqlLit(JobState.waiting)}
    returning j.*
  ), jev as (${jobCancelledEvents(s, 'j')}
  ), dev as (${nodeEvents(s)})
  select dag_run_id, count(*)::int as n from n group by dag_run_id`;

export interface FailedNode {
  dagRunId: number;
  key: string;
}

async function run(db: Queryable, text: string, failed: FailedNode[]): Promise<Map<number, number>> {
  if (!failed.length) return new Map();
  const { rows } = await db.query<{ dag_run_id: number; n: number }>(text, [failed.map((f) => f.dagRunId), failed.map((f) => f.key)]);
  return new Map(rows.map((r) => [r.dag_run_id, r.n]));
}

/** fail_fast for runs with a failed node (one per run is enough); returns nodes cancelled per run. */
export function cancelNotStarted(db: Queryable, s: string, failed: FailedNode[]): Promise<Map<number, number>> {
  const firstPerRun = [...new Map(failed.map((f) => [f.dagRunId, f] as const)).values()];
  return run(db, failFastSql(s), firstPerRun);
}

/** continue: skips every descendant of the failed nodes that is still waiting; returns nodes skipped per run. */
export function skipDescendants(db: Queryable, s: string, failed: FailedNode[]): Promise<Map<number, number>> {
  return run(db, skipDescendantsSql(s), failed);
}
