/**
 * Atomic submission (DESIGN §4): the dag_runs row, one job per node (roots `available`, the rest
 * `waiting`, which the claim index does not hold) and the dag_nodes rows with their remaining
 * dependency counts — two statements in one transaction, whatever the node count.
 */
import { fromPgError } from '../db/errors.js';
import type { Queryable } from '../db/pool.js';
import { resolveDefinitions, withDefinitionDefaults } from '../definitions/apply.js';
import { insertJobEvents } from '../events/outbox.js';
import { DEFAULT_MAX_ATTEMPTS, DEFAULT_TIMEOUT_MS } from '../queue/enqueue.js';
import { DagEvent, JobEvent } from '../model/events.js';
import { sqlLit } from '../model/sql.js';
import { DagNodeState, DagRunState, JobState } from '../model/states.js';
import { insertDagEvents } from './events.js';
import type { PreparedDag, PreparedNode } from './validate.js';

const insertRunSql = (s: string) => `
  insert into ${s}.dag_runs (name, failure_policy, idempotency_key, node_count)
  values ($1, $2, $3, $4)
  on conflict (idempotency_key) do nothing
  returning id`;

const insertNodesSql = (s: string) => `
  with t as (
    select * from unnest($2::text[], $3::text[], $4::text[], $5::int[], $6::int[], $7::int[], $8::jsonb[],
                         $9::text[], $10::text[], $11::text[], $14::text[])
      with ordinality as t(key, queue, name, priority, max_attempts, timeout_ms, input, definition,
                           depends_on, children, group_key, ord)
  ), ins as (
    insert into ${s}.jobs (queue, name, state, priority, max_attempts, timeout_ms, input, definition,
                           dag_run_id, dag_node_key, traceparent, group_key)
    select t.queue, t.name, case when t.depends_on = '' then ${sqlLit(JobState.available)} else ${sqlLit(JobState.waiting)} end,
           t.priority, coalesce(t.max_attempts, q.max_attempts, ${DEFAULT_MAX_ATTEMPTS}),
           coalesce(t.timeout_ms, q.timeout_ms, ${DEFAULT_TIMEOUT_MS}), t.input, t.definition, $1, t.key, $13::text, t.group_key
      from t left join ${s}.queues q on q.name = t.queue
     order by t.ord
    returning *
  ), nodes as (
    insert into ${s}.dag_nodes (dag_run_id, key, job_id, state, depends_on, children, remaining_deps)
    select $1, t.key, ins.id, ins.state, string_to_array(t.depends_on, ','), string_to_array(t.children, ','),
           coalesce(cardinality(string_to_array(t.depends_on, ',')), 0)
      from t join ins on ins.dag_node_key = t.key
  ), jev as (
    ${insertJobEvents(
      s,
      `(select ins.*, ${sqlLit(JobEvent.enqueued)} as event, null::timestamptz as finished_at,
                                 null::float8 as duration_ms from ins)`,
    )}
  ), dev as (
    ${insertDagEvents(
      s,
      `(select ${sqlLit(DagEvent.runCreated)} as event, $1::bigint as dag_run_id, ${sqlLit(DagRunState.running)} as state,
                                  null::text as node_key, null::bigint as job_id, 0 as ord
                           union all
                           select ${sqlLit(DagEvent.nodeReady)}, $1, ${sqlLit(DagNodeState.available)}, ins.dag_node_key, ins.id, 1
                             from ins where ins.state = ${sqlLit(JobState.available)})`,
    )}
  )
  select pg_notify($12, q.queue) from (select distinct queue from ins where state = ${sqlLit(JobState.available)}) q`;

/**
 * Resolves `definition` on nodes the way enqueue does (definitions/apply.ts, one path): pinned
 * to `name@version`, missing fields from its defaults, name from the definition, input checked
 * against its schema — except inputs holding `$ref`s, which are checked once resolved (advance.ts).
 */
export async function applyNodeDefinitions(db: Queryable, s: string, dag: PreparedDag): Promise<void> {
  const defs = await resolveDefinitions(
    db,
    s,
    dag.nodes,
    (i, field) => `nodes.${i}.${field}`,
    (i) => !dag.nodes[i].hasRefs,
  );
  dag.nodes.forEach((n, i) => {
    const d = defs[i];
    if (d) Object.assign(n, withDefinitionDefaults(n, d));
  });
}

/**
 * Writes a validated DAG; returns the new run id, or the existing one for a known idempotency
 * key. `traceparent` is every node job's creation context (the submit span's, or the caller's).
 */
export async function insertDag(
  db: Queryable,
  s: string,
  jobsChannel: string,
  dag: PreparedDag,
  traceparent?: string,
): Promise<{ id: number; created: boolean }> {
  const { rows } = await db.query(insertRunSql(s), [dag.name, dag.failurePolicy, dag.idempotencyKey ?? null, dag.nodes.length]);
  if (!rows.length) {
    const existing = await db.query(`select id from ${s}.dag_runs where idempotency_key = $1`, [dag.idempotencyKey]);
    return { id: existing.rows[0].id, created: false };
  }
  const id: number = rows[0].id;
  const col = <T>(f: (n: PreparedNode) => T) => dag.nodes.map(f);
  try {
    await db.query(insertNodesSql(s), [
      id,
      col((n) => n.key),
      col((n) => n.queue ?? 'default'),
      col((n) => n.name),
      col((n) => n.priority ?? 0),
      col((n) => n.maxAttempts ?? null),
      col((n) => n.timeoutMs ?? null),
      col((n) => n.inputJson),
      col((n) => n.definition ?? null),
      col((n) => n.dependsOn.join(',')),
      col((n) => n.children.join(',')),
      jobsChannel,
      traceparent ?? null,
      col((n) => n.group ?? null),
    ]);
  } catch (err) {
    throw fromPgError(err, 'DAG node');
  }
  return { id, created: true };
}
