// Variants for explain-hot.mjs: core's statements (as in dist) against stripped-down ones.
import { insertJobEvents } from '../../packages/core/dist/events/outbox.js';
import { JOB_COLUMNS } from '../../packages/core/dist/model/job.js';
export default (schema, B) => {
  const s = `"${schema}"`;
  const next = `select id from ${s}.jobs where state = 'available' and queue = ($1::text[])[1] and run_at <= now()
          and not exists (select 1 from ${s}.queues q where q.name = ($1::text[])[1] and q.paused)
        order by priority, run_at, id limit $2 for update skip locked`;
  const upd = (ret) => `update ${s}.jobs j set state = 'running', attempt = j.attempt + 1, worker_id = $3,
           claimed_at = now(), started_at = now(), heartbeat_at = null, updated_at = now()
     where j.id = any(array(select id from next)) returning ${ret}`;
  const ev = insertJobEvents(
    s,
    `(select c.*, 'started' as event, null::timestamptz as finished_at, null::float8 as duration_ms from claimed c)`,
  );
  const cp = ['q'],
    P = [cp, B, 'w1'];
  const runAll = `update ${s}.jobs set state = 'running', attempt = 1, worker_id = 'w1', started_at = now() where id in (select id from ${s}.jobs order by id limit ${B})`;
  const ids = Array.from({ length: B }, (_, i) => i + 1),
    att = ids.map(() => 1);
  const i = `i as (select * from unnest($1::bigint[], $2::int[]) as i(id, attempt))`;
  const u = (
    ret,
  ) => `u as (update ${s}.jobs j set state = 'completed', output = null, error = null, completed_at = now(), updated_at = now() from i
     where j.id = i.id and j.attempt = i.attempt and (j.state || '') = 'running' returning ${ret})`;
  const h = `h as (insert into ${s}.job_executions (job_id, attempt, worker_id, state, started_at, finished_at, duration_ms, output, error)
    select id, attempt, worker_id, 'completed', started_at, now(), 0, output, error from u)`;
  const cev = insertJobEvents(s, `(select u.*, 'completed' as event, now() as finished_at, 0::float8 as duration_ms from u)`);
  const small = `insert into ${s}.events (type, subject, job_id, data) select 'dev.jobline.job.completed', 'jobline.job.' || queue || '.completed.' || id, id,
           jsonb_build_object('jobId', id, 'queue', queue, 'state', 'completed', 'attempt', attempt) from u`;
  return {
    'claim core': {
      sql: `with next as (${next}), claimed as (${upd('j.*')}), ev as (${ev}) select ${JOB_COLUMNS} from claimed order by priority, run_at, id`,
      params: P,
    },
    'claim core, no event': {
      sql: `with next as (${next}), claimed as (${upd('j.*')}) select ${JOB_COLUMNS} from claimed order by priority, run_at, id`,
      params: P,
    },
    'claim no event, no order': { sql: `with next as (${next}), claimed as (${upd('j.*')}) select ${JOB_COLUMNS} from claimed`, params: P },
    'claim core, narrow timestamps': {
      sql: `with next as (${next}), claimed as (${upd('j.*')}), ev as (${ev}) select ${JOB_COLUMNS.replace(/claimed_at, started_at, heartbeat_at, completed_at, updated_at/, 'started_at')} from claimed order by priority, run_at, id`,
      params: P,
    },
    'claim floor': { sql: `with next as (${next}) ${upd('j.id, j.attempt, j.input')}`, params: P },
    'complete core': {
      setup: runAll,
      sql: `with ${i}, ${u('j.*')}, ${h}, ev as (${cev}) select id, attempt, state, dag_run_id, dag_node_key from u`,
      params: [ids, att],
    },
    'complete core, seqscan off': {
      setup: `set local enable_seqscan = off; ${runAll}`,
      sql: `with ${i}, ${u('j.*')}, ${h}, ev as (${cev}) select id, attempt, state, dag_run_id, dag_node_key from u`,
      params: [ids, att],
    },
    'complete core, generic plan': {
      setup: `set local plan_cache_mode = force_generic_plan; ${runAll}`,
      sql: `with ${i}, ${u('j.*')}, ${h}, ev as (${cev}) select id, attempt, state, dag_run_id, dag_node_key from u`,
      params: [ids, att],
    },
    'complete core, no event': {
      setup: runAll,
      sql: `with ${i}, ${u('j.*')}, ${h} select id, attempt, state, dag_run_id, dag_node_key from u`,
      params: [ids, att],
    },
    'complete, small event': { setup: runAll, sql: `with ${i}, ${u('j.*')}, ${h} ${small}`, params: [ids, att] },
    'claim, event no queues join': {
      sql: `with next as (${next}), claimed as (${upd('j.*')}), ev as (${ev.replace(/left join .* q on q.name = e.queue\s+where .*$/s, '')}) select ${JOB_COLUMNS} from claimed order by priority, run_at, id`,
      params: P,
    },
    'complete, u narrow': {
      setup: runAll,
      sql: `with ${i}, ${u('j.id, j.attempt, j.queue, j.name, j.state, j.max_attempts, j.dag_run_id, j.dag_node_key, j.worker_id, j.run_at, j.created_at, j.started_at, j.output, j.error, j.traceparent')}, ${h}, ev as (${cev}) select id, attempt, state, dag_run_id, dag_node_key from u`,
      params: [ids, att],
    },
    'complete, event no queues join': {
      setup: runAll,
      sql: `with ${i}, ${u('j.*')}, ${h}, ev as (${cev.replace(/left join .* q on q.name = e.queue\s+where .*$/s, '')}) select id from u`,
      params: [ids, att],
    },
  };
};

// Event payload variants (EVENTS=1): the completion statement with its event data built differently.
export const eventVariants = (schema, B) => {
  const s = `"${schema}"`;
  const runAll = `update ${s}.jobs set state = 'running', attempt = 1, worker_id = 'w1', started_at = now() where id in (select id from ${s}.jobs order by id limit ${B})`;
  const ids = Array.from({ length: B }, (_, i) => i + 1),
    att = ids.map(() => 1);
  const head = `with i as (select * from unnest($1::bigint[], $2::int[]) as i(id, attempt)),
    u as (update ${s}.jobs j set state = 'completed', output = null, error = null, completed_at = now(), updated_at = now() from i
     where j.id = i.id and j.attempt = i.attempt and (j.state || '') = 'running' returning j.*),
    h as (insert into ${s}.job_executions (job_id, attempt, worker_id, state, started_at, finished_at, duration_ms, output, error)
    select id, attempt, worker_id, 'completed', started_at, now(), 0, output, error from u)`;
  const lat = `cross join lateral (select e.id as "jobId", e.queue, e.name, e.state, e.attempt, e.max_attempts as "maxAttempts",
             e.dag_run_id as "dagRunId", e.dag_node_key as "dagNodeKey", e.worker_id as "workerId",
             e.run_at as "runAt", e.created_at as "createdAt", e.started_at as "startedAt",
             now() as "finishedAt", 0::float8 as "durationMs",
             case when e.error is null then null else jsonb_build_object('message', e.error->>'message') end as error,
             e.traceparent) d`;
  const ins = (data, from = lat) => `${head} insert into ${s}.events (type, subject, job_id, dag_run_id, data)
    select 'dev.jobline.job.completed', 'jobline.job.' || e.queue || '.completed.' || e.id, e.id, e.dag_run_id, ${data}
      from u e ${from}
      left join ${s}.queues q on q.name = e.queue where q.emit_events is null or 'completed' = any(q.emit_events)`;
  const out = `case when e.output is null then '{}'::jsonb else jsonb_build_object('output', e.output) end`;
  const P = { setup: runAll, params: [ids, att] };
  return {
    'ev: current (to_jsonb, strip, ||)': { ...P, sql: ins(`jsonb_strip_nulls(to_jsonb(d)) || ${out}`) },
    'ev: one batch row (jsonb_agg)': {
      ...P,
      sql: `${head} insert into ${s}.events (type, subject, job_id, dag_run_id, data)
      select 'dev.jobline.job.batch', 'jobline.batch', null, null, jsonb_agg(jsonb_strip_nulls(to_jsonb(d)) || ${out})
      from u e ${lat} left join ${s}.queues q on q.name = e.queue where q.emit_events is null or 'completed' = any(q.emit_events)`,
    },
    'ev: one batch row, lz4': {
      ...P,
      setup: `alter table ${s}.events alter column data set compression lz4; ${runAll}`,
      sql: `${head} insert into ${s}.events (type, subject, job_id, dag_run_id, data)
      select 'dev.jobline.job.batch', 'jobline.batch', null, null, jsonb_agg(jsonb_strip_nulls(to_jsonb(d)) || ${out})
      from u e ${lat} left join ${s}.queues q on q.name = e.queue where q.emit_events is null or 'completed' = any(q.emit_events)`,
    },
    'ev: no event row': { ...P, sql: `${head} select count(*) from u` },
    'ev: no data at all': { ...P, sql: ins(`'{}'::jsonb`, '') },
    'ev: to_jsonb, no strip': { ...P, sql: ins(`to_jsonb(d) || ${out}`) },
    'ev: strip only when output null': {
      ...P,
      sql: ins(`case when e.output is null then jsonb_strip_nulls(to_jsonb(d)) else jsonb_strip_nulls(to_jsonb(d)) || ${out} end`),
    },
    'ev: row_to_json strip ::jsonb': { ...P, sql: ins(`json_strip_nulls(row_to_json(d))::jsonb || ${out}`) },
    'ev: no timestamps': {
      ...P,
      sql: ins(`jsonb_strip_nulls(to_jsonb(d) - 'runAt' - 'createdAt' - 'startedAt' - 'finishedAt') || ${out}`),
    },
    'ev: timestamps as epoch text': {
      ...P,
      sql: ins(
        `jsonb_strip_nulls(to_jsonb(d)) || ${out}`,
        lat.replace(
          /e\.run_at as "runAt", e\.created_at as "createdAt", e\.started_at as "startedAt",\s+now\(\) as "finishedAt"/,
          `extract(epoch from e.run_at) as "runAt", extract(epoch from e.created_at) as "createdAt", extract(epoch from e.started_at) as "startedAt", extract(epoch from now()) as "finishedAt"`,
        ),
      ),
    },
  };
};
