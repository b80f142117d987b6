/**
 * Tracing of DAG releases (observability/README.md): after advancement, in the same completing
 * transaction, the nodes this batch released get a `release` span linking to their parents'
 * completing attempts, and that span's context becomes their creation context
 * (`jobs.traceparent`) before any worker can claim them. Runs only when a tracer records.
 */
import type { Queryable } from '../db/pool.js';
import { activeTracer } from '../observability/otel.js';
import { releaseSpans, type ReleasedNode } from '../observability/tracing-consumer.js';
import { sqlLit } from '../model/sql.js';
import { DagNodeState, JobState } from '../model/states.js';
import type { NodeTransition } from './advance.js';

// Children of the parents that just succeeded whose job is `available` now were released by this
// transaction: a node leaves `waiting` only when its last parent succeeds. Parents' traceparents
// hold their completing attempt's context (written by the worker before completion).
const releasedSql = (s: string) => `
  with p as (
    select * from unnest($1::bigint[], $2::text[]) as p(dag_run_id, key)
  ), kids as (
    select distinct c.dag_run_id, c.key, c.job_id, c.depends_on
      from p
      join ${s}.dag_nodes pn on pn.dag_run_id = p.dag_run_id and pn.key = p.key and pn.state = ${sqlLit(DagNodeState.succeeded)}
      cross join unnest(pn.children) as k(key)
      join ${s}.dag_nodes c on c.dag_run_id = pn.dag_run_id and c.key = k.key
  )
  select j.id, j.queue, j.dag_run_id, j.dag_node_key, j.traceparent,
         (select coalesce(json_agg(json_build_object('key', pn.key, 'jobId', pj.id, 'traceparent', pj.traceparent)
                                   order by pn.key), '[]'::json)
            from ${s}.dag_nodes pn join ${s}.jobs pj on pj.id = pn.job_id
           where pn.dag_run_id = kids.dag_run_id and pn.key = any(kids.depends_on)) as parents
    from kids join ${s}.jobs j on j.id = kids.job_id and j.state = ${sqlLit(JobState.available)}`;

export async function traceReleases(db: Queryable, s: string, rows: readonly NodeTransition[]): Promise<void> {
  const done = rows.filter((r) => r.state === JobState.completed && r.dagRunId !== undefined && r.dagNodeKey !== undefined);
  if (!done.length || !activeTracer()) return;
  const { rows: found } = await db.query(releasedSql(s), [done.map((r) => r.dagRunId), done.map((r) => r.dagNodeKey)]);
  const nodes: ReleasedNode[] = found.map((r) => ({
    jobId: Number(r.id),
    queue: r.queue,
    dagRunId: Number(r.dag_run_id),
    key: r.dag_node_key,
    traceparent: r.traceparent ?? undefined,
    parents: (r.parents as { key: string; jobId: number; traceparent: string | null }[]).map((p) => ({
      key: p.key,
      jobId: p.jobId,
      traceparent: p.traceparent ?? undefined,
    })),
  }));
  const contexts = releaseSpans(nodes);
  if (!contexts?.size) return;
  await db.query(`update ${s}.jobs j set traceparent = u.tp from unnest($1::bigint[], $2::text[]) as u(id, tp) where j.id = u.id`, [
    [...contexts.keys()],
    [...contexts.values()],
  ]);
}
