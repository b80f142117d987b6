/**
 * graphile-worker 0.16.6 (the newest release that runs on Node 20) at its documented best:
 * `concurrency` jobs per process (32: measured faster than 8, 16 or 24 here even on a pool of 10,
 * which we keep because the shared server has max_connections 100 and 4 processes run at once),
 * LISTEN/NOTIFY wake-ups (built in; every add_job notifies), prepared statements (default on).
 * 0.16 fetches and completes one job per statement: the local queue and batched completion
 * arrived with 0.17, past the newest release that runs on Node 20. Finished jobs are deleted, so
 * it keeps no history.
 * Bulk enqueue uses its SQL API `graphile_worker.add_jobs(job_spec[])`.
 */
import pg from 'pg';
import { Logger, makeWorkerUtils, run, runMigrations } from 'graphile-worker';

/** Chosen by a sweep on this machine (bench/README.md). */
export const CONCURRENCY = Number(process.env.BENCH_GRAPHILE_CONCURRENCY ?? 32);
/** Connections per worker process; kept at 10 like the other systems (the server is shared, max_connections 100). */
export const POOL = Number(process.env.BENCH_GRAPHILE_POOL ?? 10);
const silent = new Logger(() => () => {});

export default {
  name: 'graphile-worker',
  label: 'graphile-worker 0.16.6',
  settings: `concurrency ${CONCURRENCY} per process, pool ${POOL}, LISTEN/NOTIFY (built in), prepared statements on, pollInterval 2000 (default; wake-ups come by NOTIFY); add_jobs() for bulk. One job per fetch and per completion (0.16 has no local queue or batched completion)`,
  /** Jobs one worker process holds at once (the steady-state backlog cap scales with it). */
  inFlight: CONCURRENCY,
  tables: ['graphile_worker._private_jobs'],

  async install(url) {
    await runMigrations({ connectionString: url, logger: silent });
  },

  async reset(c) {
    await c.query('truncate graphile_worker._private_jobs, graphile_worker._private_job_queues cascade');
  },

  async remaining(c) {
    const { rows } = await c.query("select count(*)::int as n from graphile_worker._private_jobs where run_at < now() + interval '1 hour'");
    return rows[0].n;
  },

  async producer(url) {
    const utils = await makeWorkerUtils({ connectionString: url, logger: silent });
    return {
      one: (input) => utils.addJob('noop', input),
      many: (inputs) =>
        utils.withPgClient((c) =>
          c.query(
            `select count(*) from graphile_worker.add_jobs(
               array(select json_populate_recordset(null::graphile_worker.job_spec, $1::json)))`,
            [JSON.stringify(inputs.map((payload) => ({ identifier: 'noop', payload })))],
          ),
        ),
      close: () => utils.release(),
    };
  },

  async worker(url, { onJob }) {
    const pool = new pg.Pool({ connectionString: url, max: POOL });
    pool.on('error', () => {});
    let runner;
    return {
      async start() {
        runner = await run({
          pgPool: pool,
          concurrency: CONCURRENCY,
          noHandleSignals: true,
          pollInterval: 2000,
          logger: silent,
          taskList: { noop: async (payload) => void onJob(payload) },
        });
      },
      async stop() {
        await runner?.stop();
        await pool.end();
      },
    };
  },

  async seedBigTable(c, n) {
    // No finished rows exist in graphile-worker (completion deletes the job): only the backlog applies.
    await c.query(
      `select count(*) from graphile_worker.add_jobs(
         array(select ('noop', json_build_object('n', g), null, now() + interval '1 day' + g * interval '1 ms', null, null, null, null)::graphile_worker.job_spec
                 from generate_series(1, $1::int) g))`,
      [n],
    );
  },
};
