/**
 * The raw-SQL floor: the rows Jobline writes per job, by hand-written batched SQL and no framework,
 * on Jobline's own tables. Per batch of up to 500: one claim UPDATE (… FOR UPDATE SKIP LOCKED),
 * writing each job's `started` outbox row, then one completion statement that updates the job
 * rows (fenced on id + attempt + state), inserts one history row and the `completed` outbox row
 * per job. 4 such loops in flight per process. Enqueue writes the job row and its `enqueued`
 * outbox row, like Jobline.
 *
 * Same rows, same contents: the outbox rows carry the event payload Jobline writes (the keys of
 * @jobline/contracts' job event data), built the way Jobline builds it. An earlier floor wrote
 * one small `completed` row and no `started` row per job — fewer rows than Jobline writes, so
 * not the floor of the same work (results before 2026-11-30 used it).
 */
import pg from 'pg';
import jobline, { QUEUE } from './jobline.mjs';

const BATCH = 500;
const LOOPS = 4;
const CHANNEL = 'raw_floor_jobs';

pg.types.setTypeParser(pg.types.builtins.INT8, (v) => Number(v));

const insertOne = `
  with ins as (
    insert into jobline.jobs (queue, name, state, input) values ($1, 'noop', 'available', $2)
    returning id, queue, name
  ), ev as (
    insert into jobline.events (type, subject, job_id, data)
    select 'dev.jobline.job.enqueued', 'jobline.job.' || queue || '.enqueued.' || id, id,
           jsonb_build_object('jobId', id, 'queue', queue, 'name', name, 'state', 'available')
      from ins
  )
  select id from ins`;

const insertMany = `
  with ins as (
    insert into jobline.jobs (queue, name, state, input)
    select $1, 'noop', 'available', i from unnest($2::jsonb[]) i
    returning id, queue, name
  ), ev as (
    insert into jobline.events (type, subject, job_id, data)
    select 'dev.jobline.job.enqueued', 'jobline.job.' || queue || '.enqueued.' || id, id,
           jsonb_build_object('jobId', id, 'queue', queue, 'name', name, 'state', 'available')
      from ins
  )
  select count(*) from ins`;

/** The job event's data, as Jobline writes it (the payload is the same work, so part of the floor). */
const eventData = (
  e,
) => `jsonb_strip_nulls(to_jsonb(d)) || case when ${e}.output is null then '{}'::jsonb else jsonb_build_object('output', ${e}.output) end
  from ${e} cross join lateral (select ${e}.id as "jobId", ${e}.queue, ${e}.name, ${e}.state, ${e}.attempt, ${e}.max_attempts as "maxAttempts",
       ${e}.dag_run_id as "dagRunId", ${e}.dag_node_key as "dagNodeKey", ${e}.worker_id as "workerId", ${e}.run_at as "runAt",
       ${e}.created_at as "createdAt", ${e}.started_at as "startedAt", ${e}.completed_at as "finishedAt",
       null::float8 as "durationMs", ${e}.traceparent) d`;

const claim = `
  with next as (
    select id from jobline.jobs
     where state = 'available' and queue = $1 and run_at <= now()
     order by priority, run_at, id
     limit $2
     for update skip locked
  ), claimed as (
  update jobline.jobs j
     set state = 'running', attempt = j.attempt + 1, worker_id = $3, claimed_at = now(), started_at = now(), updated_at = now()
   -- = any(array(…)) rather than a join: the prepared statement's generic plan can't size
   -- "limit $2" and, once statistics show a large backlog, hash-joins a sequential scan of the
   -- whole table (measured 28–50 ms per claim instead of 4–8 ms).
   where j.id = any(array(select id from next))
  returning j.*
  ), ev as (
    insert into jobline.events (type, subject, job_id, dag_run_id, data)
    select 'dev.jobline.job.started', 'jobline.job.' || claimed.queue || '.started.' || claimed.id, claimed.id, claimed.dag_run_id,
           ${eventData('claimed')}
  )
  select id, attempt, input from claimed`;

const complete = `
  with i as (
    select * from unnest($1::bigint[], $2::int[]) as i(id, attempt)
  ), u as (
    update jobline.jobs j
       set state = 'completed', completed_at = now(), updated_at = now()
      from i
     -- Fence written as Jobline writes it (FENCE_RUNNING in core's complete.ts): a bare
     -- state = 'running' lets the planner pick the partial index jobs_running_idx under stale
     -- statistics and scan its dead entries once per batch (measured here: 8.4k jobs/s instead of 20k+).
     where j.id = i.id and j.attempt = i.attempt and (j.state || '') = 'running'
    returning j.*
  ), h as (
    insert into jobline.job_executions (job_id, attempt, worker_id, state, started_at, finished_at, duration_ms)
    select id, attempt, worker_id, 'completed', started_at, now(), 0 from u
  ), ev as (
    insert into jobline.events (type, subject, job_id, dag_run_id, data)
    select 'dev.jobline.job.completed', 'jobline.job.' || u.queue || '.completed.' || u.id, u.id, u.dag_run_id,
           ${eventData('u')}
  )
  select count(*)::int as n from u`;

export const newPool = (url, max) => {
  const p = new pg.Pool({ connectionString: url, max, application_name: 'raw-floor' });
  p.on('error', () => {});
  return p;
};

export default {
  name: 'raw',
  label: 'raw floor (same rows)',
  node: '24',
  settings: `hand-written batched SQL on Jobline's tables: claim UPDATE … SKIP LOCKED of ≤${BATCH}, one completion statement per batch (job UPDATE fenced on id+attempt+state, history INSERT, outbox INSERT), ${LOOPS} loops in flight per process, prepared statements; LISTEN/NOTIFY wake-up (producer NOTIFY debounced to one per 2 ms, like Jobline) with a 1 s poll`,
  /** Jobs one worker process holds at once (the steady-state backlog cap scales with it). */
  inFlight: BATCH * LOOPS,
  tables: jobline.tables,
  install: jobline.install,
  reset: jobline.reset,
  remaining: jobline.remaining,
  seedBigTable: jobline.seedBigTable,

  async producer(url) {
    const pool = newPool(url, 10);
    const notify = debouncedNotify(pool, CHANNEL);
    return {
      one: async (input) => {
        await pool.query({ name: 'raw_insert_one', text: insertOne, values: [QUEUE, JSON.stringify(input)] });
        notify();
      },
      many: async (inputs) => {
        for (let i = 0; i < inputs.length; i += BATCH) {
          const chunk = inputs.slice(i, i + BATCH).map((x) => JSON.stringify(x));
          await pool.query({ name: 'raw_insert_many', text: insertMany, values: [QUEUE, chunk] });
        }
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
      claim: (c, workerId) => c.query({ name: 'raw_claim', text: claim, values: [QUEUE, BATCH, workerId] }),
      complete: (c, rows) => c.query({ name: 'raw_complete', text: complete, values: [rows.map((r) => r.id), rows.map((r) => r.attempt)] }),
    }),
};

/**
 * Wake-ups as Jobline does them: NOTIFY serialises commits, so not one per insert but at most one
 * per 2 ms window (leading edge, plus one trailing for inserts inside the window).
 */
export function debouncedNotify(pool, channel) {
  let last = -Infinity;
  let trailing;
  const send = () => pool.query(`select pg_notify('${channel}', '')`).catch(() => {});
  const notify = () => {
    const t = performance.now();
    if (t - last >= 2) {
      last = t;
      send();
    } else if (!trailing) {
      trailing = setTimeout(
        () => {
          trailing = undefined;
          last = performance.now();
          send();
        },
        2 - (t - last),
      );
    }
  };
  notify.cancel = () => clearTimeout(trailing);
  return notify;
}

/**
 * A floor's worker process: `loops` loops, each on its own connection: claim a batch
 * (`claim(client, workerId)` → rows with id, attempt, input), run the no-op handler on each row,
 * complete the batch in one statement (`complete(client, rows)`); sleep on LISTEN `channel` (or
 * 1 s) when a claim comes back empty.
 */
export async function sqlWorker(url, { channel, loops: LOOPS, onJob, claim, complete }) {
  const pool = newPool(url, LOOPS);
  const listener = new pg.Client({ connectionString: url, application_name: `${channel}-listen` });
  const workerId = `${channel}-${process.pid}`;
  let stopping = false;
  const wakers = new Set();
  const wait = (ms) =>
    new Promise((resolve) => {
      const done = () => {
        clearTimeout(t);
        wakers.delete(done);
        resolve();
      };
      const t = setTimeout(done, ms);
      wakers.add(done);
    });
  const wakeAll = () => [...wakers].forEach((w) => w());
  const loop = async () => {
    const c = await pool.connect();
    try {
      while (!stopping) {
        const { rows } = await claim(c, workerId);
        if (!rows.length) {
          await wait(1000);
          continue;
        }
        for (const r of rows) onJob(r.input);
        await complete(c, rows);
      }
    } finally {
      c.release();
    }
  };
  let running = [];
  return {
    async start() {
      await listener.connect();
      listener.on('notification', wakeAll);
      await listener.query(`listen ${channel}`);
      running = Array.from({ length: LOOPS }, loop);
    },
    async stop() {
      stopping = true;
      wakeAll();
      await Promise.all(running);
      await listener.end().catch(() => {});
      await pool.end();
    },
  };
}
