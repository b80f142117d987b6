/**
 * The minimal floor (issue 14): the least a durable queue with history and events can write per
 * job, on its own small schema `floor` — a job row, one history row and one small outbox row.
 * Per batch of up to 500: one claim `UPDATE … FOR UPDATE SKIP LOCKED`, then one fenced completion
 * statement that updates the jobs, inserts one history row and one small outbox row per job.
 * 4 loops in flight per process, prepared statements, LISTEN/NOTIFY (debounced like Jobline's).
 * Enqueue writes the job row only (`unnest` of the inputs for bulk): its insert rate is the
 * denominator of the bulk-enqueue target. The raw floor (raw.mjs) instead writes the rows Jobline
 * writes on Jobline's tables: this one shows the cost of the schema and event choices, that one
 * the cost of the implementation.
 */
import { debouncedNotify, newPool, sqlWorker } from './raw.mjs';

const BATCH = 500;
const LOOPS = 4;
const CHANNEL = 'floor_min_jobs';
const QUEUE = 'bench';

const SCHEMA = `
  create schema if not exists floor;
  create table floor.jobs (
    id bigint generated always as identity primary key,
    queue text not null,
    state text not null default 'available',
    attempt int not null default 0,
    input jsonb,
    run_at timestamptz not null default now(),
    created_at timestamptz not null default now(),
    completed_at timestamptz
  );
  create index jobs_claim_idx on floor.jobs (queue, run_at, id) where state = 'available';
  create table floor.history (
    job_id bigint not null,
    attempt int not null,
    state text not null,
    finished_at timestamptz not null default now()
  );
  create table floor.outbox (
    id bigint generated always as identity primary key,
    job_id bigint not null,
    type text not null
  );`;

const insertOne = `insert into floor.jobs (queue, input) values ($1, $2)`;
const insertMany = `insert into floor.jobs (queue, input) select $1, i from unnest($2::jsonb[]) i`;

const claim = `
  update floor.jobs j set state = 'running', attempt = j.attempt + 1
   where j.id = any(array(
     select id from floor.jobs
      where state = 'available' and queue = $1 and run_at <= now()
      order by run_at, id limit $2
      for update skip locked))
  returning j.id, j.attempt, j.input`;

// The fence: only a job still running in this attempt is completed (a reclaimed one is not).
const complete = `
  with u as (
    update floor.jobs j set state = 'completed', completed_at = now()
      from unnest($1::bigint[], $2::int[]) as i(id, attempt)
     where j.id = i.id and j.attempt = i.attempt and (j.state || '') = 'running'
    returning j.id, j.attempt
  ), h as (
    insert into floor.history (job_id, attempt, state) select id, attempt, 'completed' from u
  )
  insert into floor.outbox (job_id, type) select id, 'completed' from u`;

export default {
  name: 'floor-min',
  label: 'minimal floor',
  node: '24',
  settings: `hand-written SQL on its own 3-table schema: claim UPDATE … FOR UPDATE SKIP LOCKED of ≤${BATCH}, one fenced completion statement per batch that also inserts one history row and one small outbox row per job, ${LOOPS} loops in flight per process, prepared statements, LISTEN/NOTIFY (debounced, 2 ms) with a 1 s poll; enqueue writes the job row only (unnest for bulk)`,
  inFlight: BATCH * LOOPS,
  tables: ['floor.jobs', 'floor.history', 'floor.outbox'],

  async install(url) {
    const c = newPool(url, 1);
    try {
      await c.query(SCHEMA);
    } finally {
      await c.end();
    }
  },

  async reset(c) {
    await c.query('truncate floor.jobs, floor.history, floor.outbox');
  },

  async remaining(c) {
    const { rows } = await c.query(
      "select count(*)::int as n from floor.jobs where state in ('available', 'running') and run_at <= now() + interval '1 hour'",
    );
    return rows[0].n;
  },

  async producer(url) {
    const pool = newPool(url, 10);
    const notify = debouncedNotify(pool, CHANNEL);
    return {
      one: async (input) => {
        await pool.query({ name: 'floor_insert_one', text: insertOne, values: [QUEUE, JSON.stringify(input)] });
        notify();
      },
      many: async (inputs) => {
        await pool.query({ name: 'floor_insert_many', text: insertMany, values: [QUEUE, inputs.map((x) => JSON.stringify(x))] });
        notify();
      },
      close: async () => {
        notify.cancel();
        await pool.end();
      },
    };
  },

  worker: (url, { onJob }) =>
    sqlWorker(url, {
      channel: CHANNEL,
      loops: LOOPS,
      onJob,
      claim: (c) => c.query({ name: 'floor_claim', text: claim, values: [QUEUE, BATCH] }),
      complete: (c, rows) =>
        c.query({ name: 'floor_complete', text: complete, values: [rows.map((r) => r.id), rows.map((r) => r.attempt)] }),
    }),

  async seedBigTable(c, n) {
    await c.query(
      `insert into floor.jobs (queue, state, attempt, input, run_at, created_at, completed_at)
       select $2, 'completed', 1, jsonb_build_object('n', g), t, t, t
         from generate_series(1, $1::int) g, lateral (select now() - interval '1 hour' + g * interval '1 ms' as t) x`,
      [n, QUEUE],
    );
    await c.query(
      `insert into floor.history (job_id, attempt, state, finished_at) select id, 1, 'completed', completed_at from floor.jobs where state = 'completed'`,
    );
    await c.query(
      `insert into floor.jobs (queue, input, run_at) select $2, jsonb_build_object('n', g), now() + interval '1 day' + g * interval '1 ms' from generate_series(1, $1::int) g`,
      [n, QUEUE],
    );
  },
};
