/**
 * graphile-worker 0.18 at its documented best (worker.graphile.org "Performance": the settings of
 * its published numbers): `concurrentJobs` 24 per process, the local queue (`localQueue.size`
 * 500: one statement fetches and locks a batch, handed to the 24 slots without a round trip),
 * batched completion (`completeJobBatchDelay` 0 and `failJobBatchDelay` 0: completions that are
 * ready together go in one statement), `useNodeTime`, LISTEN/NOTIFY (built in), prepared
 * statements (default). The docs' pool of 25 per process is kept at 10 (the other systems' pool;
 * 4 processes × 25 exceed a shared server's max_connections = 100). Finished jobs are deleted,
 * so it keeps no history. Bulk enqueue through its SQL API `graphile_worker.add_jobs(job_spec[])`.
 */
import pg from 'pg';
import { packageVersion } from '../lib/package-version.mjs';
import { Logger, makeWorkerUtils, run, runMigrations } from 'graphile-worker';

/** The documented performance configuration (concurrentJobs 24, localQueue 500). */
export const CONCURRENCY = Number(process.env.BENCH_GRAPHILE_CONCURRENCY ?? 24);
/** Connections per worker process; kept at 10 like the other systems (the server is shared, max_connections 100). */
export const POOL = Number(process.env.BENCH_GRAPHILE_POOL ?? 10);
export const LOCAL_QUEUE = Number(process.env.BENCH_GRAPHILE_LOCAL_QUEUE ?? 500);
const silent = new Logger(() => () => {});
const version = () => packageVersion('graphile-worker');

export default {
  name: 'graphile-worker',
  label: 'graphile-worker',
  node: '24',
  version,
  settings: `concurrentJobs ${CONCURRENCY} per process, localQueue.size ${LOCAL_QUEUE}, completeJobBatchDelay 0, failJobBatchDelay 0, useNodeTime, pool ${POOL}, LISTEN/NOTIFY (built in), prepared statements on, pollInterval 2000 (default; wake-ups come by NOTIFY); add_jobs() for bulk`,
  /** Jobs one worker process holds at once (the steady-state backlog cap scales with it). */
  inFlight: Math.max(CONCURRENCY, LOCAL_QUEUE),
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
    // graphile-worker checks that a pool it is given handles errors on the pool and on its clients.
    pool.on('error', () => {});
    pool.on('connect', (client) => client.on('error', () => {}));
    let runner;
    return {
      async start() {
        runner = await run({
          pgPool: pool,
          concurrency: CONCURRENCY,
          noHandleSignals: true,
          pollInterval: 2000,
          useNodeTime: true,
          preset: { worker: { localQueue: { size: LOCAL_QUEUE }, completeJobBatchDelay: 0, failJobBatchDelay: 0 } },
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
