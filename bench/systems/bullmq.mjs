/**
 * BullMQ 6.7 (the newest release; its PostgreSQL backend ships inside the bullmq package) on its PostgreSQL backend (`createPostgresBackend`): one worker per process with a
 * high `concurrency`, the fused finish-and-fetch-next path (moveToCompleted with fetchNext, one
 * statement per job), LISTEN/NOTIFY for the blocking wait, and `addBulk` for bulk enqueue.
 * The OSS Worker has no batch fetch (batches are a BullMQ Pro feature). Completed jobs are kept
 * (the default), like Jobline keeps its rows and history.
 */
import { packageVersion } from '../lib/package-version.mjs';
import { createPostgresBackend, withBackend } from 'bullmq';

const QUEUE = 'bench';
const { Queue, Worker } = withBackend(createPostgresBackend);
/** Chosen by a sweep on this machine (bench/README.md). */
export const CONCURRENCY = Number(process.env.BENCH_BULLMQ_CONCURRENCY ?? 50);
export const POOL = Number(process.env.BENCH_BULLMQ_POOL ?? 10);

export default {
  name: 'bullmq',
  label: 'BullMQ (PostgreSQL)',
  node: '24',
  version: () => packageVersion('bullmq'),
  settings: `one Worker per process, concurrency ${CONCURRENCY}, pool ${POOL} + a dedicated LISTEN connection, fused complete-and-fetch-next (default), completed jobs kept (default), addBulk for bulk; no batch fetch in the OSS worker`,
  /** Jobs one worker process holds at once (the steady-state backlog cap scales with it). */
  inFlight: CONCURRENCY,
  tables: ['bullmq.job', 'bullmq.event'],

  async install(url) {
    const q = new Queue(QUEUE, { connection: { connectionString: url, migrate: true, max: 2 } });
    await q.waitUntilReady();
    await q.close();
  },

  async reset(c) {
    const { rows } = await c.query(
      "select format('%I.%I', schemaname, tablename) as t from pg_tables where schemaname = 'bullmq' and tablename not in ('migration', 'meta')",
    );
    await c.query(`truncate ${rows.map((r) => r.t).join(', ')}`);
  },

  async remaining(c) {
    const { rows } = await c.query("select count(*)::int as n from bullmq.job where queue = $1 and state in ('waiting', 'active')", [
      QUEUE,
    ]);
    return rows[0].n;
  },

  async producer(url) {
    const q = new Queue(QUEUE, { connection: { connectionString: url, max: 10 } });
    q.on('error', () => {});
    await q.waitUntilReady();
    return {
      one: (input) => q.add('noop', input),
      many: (inputs) => q.addBulk(inputs.map((data) => ({ name: 'noop', data }))),
      close: () => q.close(),
    };
  },

  async worker(url, { onJob }) {
    const w = new Worker(
      QUEUE,
      async (job) => {
        onJob(job.data);
        return null;
      },
      { connection: { connectionString: url, max: POOL }, concurrency: CONCURRENCY, autorun: false },
    );
    w.on('error', () => {});
    let running;
    return {
      async start() {
        await w.waitUntilReady();
        running = w.run();
      },
      async stop() {
        await w.close();
        await running?.catch(() => {});
      },
    };
  },

  async seedBigTable(c, n) {
    await c.query(
      `insert into bullmq.job (queue, id, seq, name, state, data, opts, added_at_ms, processed_at_ms, finished_at_ms, attempts_made, attempts_started, return_value)
       select $2, 'seed-done-' || g, nextval('bullmq.job_seq'), 'noop', 'completed', jsonb_build_object('n', g), '{}', t, t, t, 1, 1, 'null'
         from generate_series(1, $1::int) g,
              lateral (select (extract(epoch from now()) * 1000)::bigint - 3600000 + g as t) x`,
      [n, QUEUE],
    );
    await c.query(
      `insert into bullmq.job (queue, id, seq, name, state, data, opts, delay_ms, added_at_ms, process_at_ms)
       select $2, 'seed-later-' || g, nextval('bullmq.job_seq'), 'noop', 'delayed', jsonb_build_object('n', g), '{}', 86400000, t, t + 86400000 + g
         from generate_series(1, $1::int) g,
              lateral (select (extract(epoch from now()) * 1000)::bigint as t) x`,
      [n, QUEUE],
    );
  },
};
