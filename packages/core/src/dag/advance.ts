/**
 * DAG advancement, run inside the transaction that finished node jobs (the worker's completion
 * batch, the leader's rescue, or cancel): parents become terminal, children's remaining_deps are
 * decremented and those reaching 0 are released (job `available`, NOTIFY to the queue's channel,
 * delivered at commit) — no background pass, no polling delay. Set-based: one statement for a
 * whole batch, whatever mix of runs and nodes it holds.
 */
import type { Queryable } from '../db/pool.js';
import { DagEvent, NODE_STATE_BY_JOB_STATE } from '../model/events.js';
import { sqlCase, sqlList, sqlLit } from '../model/sql.js';
import { DagNodeOpen, DagNodeState, JobState } from '../model/states.js';
import { insertDagEvents, nodeEventFor } from './events.js';
import { addCount, finishRuns, lockRuns } from './finish.js';
import { cancelNotStarted, skipDescendants, type FailedNode } from './policy.js';
import { resolveReleasedInputs, type ReleasedWithRefs } from './release-inputs.js';
import { statement } from './prepared.js';

/** A node job that reached `completed`, `failed` (for good) or `cancelled`. */
export interface NodeTransition {
  id: number;
  state: string;
  dagRunId?: number;
  dagNodeKey?: string;
}

export interface AdvanceContext {
  s: string;
  jobsChannel: string;
  maxInputBytes: number;
}

// Children are locked in (run, key) order so that concurrent batches touching the same children
// could never deadlock even without the run lock taken before this statement.
const advanceSql = statement(
  (s: string) => `
  with t as (
    select * from unnest($1::bigint[], $2::text[], $3::text[]) as t(dag_run_id, key, job_state)
  ), parents as (
    update ${s}.dag_nodes n
       set state = ${sqlCase('t.job_state', NODE_STATE_BY_JOB_STATE, DagNodeState.cancelled)}
      from t
     where n.dag_run_id = t.dag_run_id and n.key = t.key and n.state in (${sqlList(DagNodeOpen)})
    returning n.dag_run_id, n.key, n.job_id, n.state, n.children
  ), dec as (
    select p.dag_run_id, c.key, count(*)::int as n
      from parents p cross join unnest(p.children) as c(key)
     where p.state = ${sqlLit(DagNodeState.succeeded)}
     group by p.dag_run_id, c.key
  ), locked as (
    select n.dag_run_id, n.key, dec.n as done
      from ${s}.dag_nodes n join dec on dec.dag_run_id = n.dag_run_id and dec.key = n.key
     where n.state = ${sqlLit(DagNodeState.waiting)}
     order by n.dag_run_id, n.key
       for update of n
  ), kids as (
    update ${s}.dag_nodes n
       set remaining_deps = n.remaining_deps - l.done,
           state = case when n.remaining_deps - l.done <= 0 then ${sqlLit(DagNodeState.available)} else n.state end
      from locked l
     where n.dag_run_id = l.dag_run_id and n.key = l.key
    returning n.dag_run_id, n.key, n.job_id, n.state, n.depends_on
  ), rel as (
    update ${s}.jobs j set state = ${sqlLit(JobState.available)}, run_at = now(), updated_at = now()
      from kids k
     where k.state = ${sqlLit(DagNodeState.available)} and j.id = k.job_id and j.state = ${sqlLit(JobState.waiting)}
    returning j.id, j.queue, j.dag_run_id, j.dag_node_key, j.input, j.definition, k.depends_on
  ), ev as (
    ${insertDagEvents(
      s,
      `(select ${nodeEventFor('p.state')} as event, p.dag_run_id, p.state, p.key as node_key, p.job_id, 0 as ord
                             from parents p
                           union all
                           select ${sqlLit(DagEvent.nodeReady)}, r.dag_run_id, ${sqlLit(DagNodeState.available)}, r.dag_node_key, r.id, 1 from rel r)`,
    )}
  )
  select 'done' as kind, p.dag_run_id, p.key, p.state, null::bigint as job_id, null::jsonb as input,
         null::text as definition, null::jsonb as outputs
    from parents p
  union all
  select 'ready', r.dag_run_id, r.dag_node_key, ${sqlLit(DagNodeState.available)}, r.id, r.input, r.definition,
         (select jsonb_object_agg(pn.key, pj.output)
            from ${s}.dag_nodes pn join ${s}.jobs pj on pj.id = pn.job_id
           where pn.dag_run_id = r.dag_run_id and pn.key = any(r.depends_on))
    from rel r
   where r.input::text like '%"$ref": %'
  union all
  select 'wake', null, null, null, count(*), null, null, null
    from (select pg_notify($4, q.queue) from (select distinct queue from rel) q) w`,
);

export async function advance(db: Queryable, ctx: AdvanceContext, rows: readonly NodeTransition[]): Promise<void> {
  const nodes = rows.filter((r) => r.dagRunId !== undefined && r.dagNodeKey !== undefined);
  if (!nodes.length) return;
  const { s } = ctx;
  const runs = await lockRuns(
    db,
    s,
    [...new Set(nodes.map((n) => n.dagRunId!))].sort((a, b) => a - b),
  );
  const { rows: out } = await db.query({
    ...advanceSql(s),
    values: [nodes.map((n) => n.dagRunId), nodes.map((n) => n.dagNodeKey), nodes.map((n) => n.state), ctx.jobsChannel],
  });
  const done = new Map<number, number>();
  const failed: FailedNode[] = [];
  const withRefs: ReleasedWithRefs[] = [];
  for (const r of out) {
    if (r.kind === 'done') {
      addCount(done, r.dag_run_id);
      if (r.state !== DagNodeState.succeeded) failed.push({ dagRunId: r.dag_run_id, key: r.key });
    } else if (r.kind === 'ready') {
      withRefs.push({
        jobId: r.job_id,
        dagRunId: r.dag_run_id,
        key: r.key,
        input: r.input,
        definition: r.definition ?? undefined,
        outputs: r.outputs ?? {},
      });
    }
  }
  if (withRefs.length) {
    for (const f of await resolveReleasedInputs(db, ctx, withRefs)) {
      addCount(done, f.dagRunId);
      failed.push(f);
    }
  }
  if (failed.length) {
    // Sequential on purpose: one client cannot run two statements at once.
    const policyOf = (id: number) => runs.get(id)?.failurePolicy;
    const ff = await cancelNotStarted(
      db,
      s,
      failed.filter((f) => policyOf(f.dagRunId) === 'fail_fast'),
    );
    const sk = await skipDescendants(
      db,
      s,
      failed.filter((f) => policyOf(f.dagRunId) === 'continue'),
    );
    for (const m of [ff, sk]) for (const [id, n] of m) addCount(done, id, n);
  }
  await finishRuns(db, s, done);
}
