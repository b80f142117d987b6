/**
 * Jobline through its public library API (@jobline/core, built dist): history rows and outbox
 * events on (the defaults), LISTEN/NOTIFY wake-ups, batched claim and completion.
 *
 * `makeJobline` builds the adapter for one Jobline row of the report: this tree's core on Node 24
 * (`jobline`, `jobline-max`), the same on the machine's Node (`jobline@node20`), or another, already
 * built checkout (`jobline@baseline`, `--baseline <dir>`), whose core is imported from its own dist.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

process.env.LOG_LEVEL ??= 'warn';

export const QUEUE = 'bench';

/** Worker knobs used by every scenario; `concurrency` comes from the adapter (200 by default). */
export const WORKER_SETTINGS = { claimBatchSize: 500, completionBatchSize: 500, completionFlushMs: 2, pollIntervalMs: 1000 };
const POOL = 10;
const HERE_CORE = fileURLToPath(new URL('../../packages/core/', import.meta.url));

// The wake-up scenarios (scenarios/wakeups.mjs) choose the transport; the relay stays off there so
// NOTIFY and NATS rows differ only in the wake-up.
const wakeups = () => (process.env.BENCH_WAKEUPS ? { wakeups: process.env.BENCH_WAKEUPS, natsUrl: process.env.BENCH_NATS_URL ?? '' } : {});

const RESET_TABLES = [
  'jobline.jobs',
  'jobline.job_executions',
  'jobline.events',
  'jobline.workers',
  'jobline.leases',
  'jobline.dag_nodes',
  'jobline.dag_runs',
];

/** "0.1.0 (commit abc1234)" of the core a Jobline row runs, for the report. */
function describeCore(coreDir) {
  const version = JSON.parse(readFileSync(join(coreDir, 'package.json'), 'utf8')).version;
  const r = spawnSync('git', ['-C', coreDir, 'log', '-1', '--format=%h %cs'], { encoding: 'utf8' });
  return r.status === 0 ? `${version} (commit ${r.stdout.trim()})` : version;
}

export function makeJobline({ name, label, coreDir = HERE_CORE, node = '24', concurrency = 200, scenarios }) {
  const coreUrl = pathToFileURL(join(coreDir, 'dist', 'index.js')).href;
  const core = () => import(coreUrl);
  const connect = async (url, extra = {}) =>
    (await core()).Jobline.connect({ databaseUrl: url, poolSize: POOL, migrate: false, ...wakeups(), ...extra });
  return {
    name,
    label,
    node,
    scenarios,
    coreDir,
    version: () => describeCore(coreDir),
    settings:
      `worker concurrency ${concurrency} per process, claimBatchSize ${WORKER_SETTINGS.claimBatchSize}, completionBatchSize ${WORKER_SETTINGS.completionBatchSize}, ` +
      `completionFlushMs ${WORKER_SETTINGS.completionFlushMs}, pool ${POOL}, LISTEN/NOTIFY (notifyDebounceMs 2) with 1 s poll fallback; ` +
      'history rows and outbox events on (all event types, as by default); maintenance leader on',
    inFlight: concurrency,
    tables: ['jobline.jobs', 'jobline.job_executions', 'jobline.events'],

    async install(url) {
      const jl = await (await core()).Jobline.connect({ databaseUrl: url, poolSize: 2, migrate: true });
      await jl.close();
    },

    async reset(c) {
      // Only the tables that exist: a baseline checkout may predate some of them.
      const { rows } = await c.query('select t from unnest($1::text[]) t where to_regclass(t) is not null', [RESET_TABLES]);
      await c.query(`truncate ${rows.map((r) => r.t).join(', ')} cascade`);
    },

    async remaining(c) {
      const { rows } = await c.query("select count(*)::int as n from jobline.jobs where state in ('available', 'running', 'retryable')");
      return rows[0].n;
    },

    async producer(url) {
      const jl = await connect(url);
      return {
        one: (input) => jl.enqueue({ queue: QUEUE, name: 'noop', input }),
        many: (inputs) => jl.enqueueMany(inputs.map((input) => ({ queue: QUEUE, name: 'noop', input }))),
        close: () => jl.close(),
        jobline: jl,
      };
    },

    async worker(url, { onJob }) {
      const jl = await connect(url);
      const w = jl.worker({
        queues: [QUEUE],
        concurrency,
        ...WORKER_SETTINGS,
        ...(process.env.BENCH_WAKEUPS ? { relay: false } : {}),
        handlers: {
          noop: (input) => {
            onJob(input);
            return null;
          },
        },
      });
      return {
        start: () => w.start(),
        stop: async () => {
          await w.stop();
          await jl.close();
        },
        stats: () => w.stats,
      };
    },

    async seedBigTable(c, n) {
      await seedJoblineTables(c, n);
    },
  };
}

export default makeJobline({ name: 'jobline', label: 'Jobline' });

/**
 * `n` finished jobs (each with its history row, as Jobline leaves them; their outbox rows are
 * gone, as after the relay) and `n` jobs scheduled a day ahead, inserted directly with SQL.
 * Shared with the raw floor, which uses the same tables.
 */
export async function seedJoblineTables(c, n) {
  await c.query(
    `insert into jobline.jobs (queue, name, state, run_at, attempt, input, worker_id, created_at, claimed_at, started_at, completed_at, updated_at)
     select $2, 'noop', 'completed', t, 1, jsonb_build_object('n', g), 'seed', t, t, t, t, t
       from generate_series(1, $1::int) g, lateral (select now() - interval '1 hour' + g * interval '1 ms' as t) x`,
    [n, QUEUE],
  );
  await c.query(
    `insert into jobline.job_executions (job_id, attempt, worker_id, state, started_at, finished_at, duration_ms)
     select id, 1, 'seed', 'completed', started_at, completed_at, 0.1 from jobline.jobs where worker_id = 'seed'`,
  );
  await c.query(
    `insert into jobline.jobs (queue, name, state, run_at, input)
     select $2, 'noop', 'scheduled', now() + interval '1 day' + g * interval '1 ms', jsonb_build_object('n', g)
       from generate_series(1, $1::int) g`,
    [n, QUEUE],
  );
}
