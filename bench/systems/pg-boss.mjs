/**
 * pg-boss 12 at its documented best for throughput: `work()` with `batchSize` (the handler gets
 * the whole batch and pg-boss completes it with one statement) × `localConcurrency` fetch loops
 * per process, `burstWhenBatchFull` (fetch again at once while batches come back full, instead of
 * waiting out the polling interval), LISTEN/NOTIFY (`useListenNotify` + the queue's `notify`), the
 * shortest allowed polling interval (0.5 s) as the fallback. 500 × 4 was the fastest of 200 × 4,
 * 500 × 4 and 200 × 8 on Node 24 in issue 14's measurements; BENCH_PGBOSS_* override.
 * One configuration (the old 200-in-flight `pg-boss` and `pg-boss-max` rows are folded into it).
 */
import { packageVersion } from '../lib/package-version.mjs';
import { PgBoss } from 'pg-boss';

const QUEUE = 'bench';
const POLL_S = 0.5;
const BATCH = Number(process.env.BENCH_PGBOSS_BATCH ?? 500);
const LOOPS = Number(process.env.BENCH_PGBOSS_LOOPS ?? 4);
const POOL = 10;

const version = () => packageVersion('pg-boss');

const boss = (url, extra = {}) => {
  const b = new PgBoss({
    connectionString: url,
    max: POOL,
    schedule: false,
    supervise: false,
    migrate: false,
    useListenNotify: true,
    ...extra,
  });
  b.on('error', () => {});
  b.on('warning', () => {});
  return b;
};

export default {
  name: 'pg-boss',
  label: 'pg-boss',
  node: '24',
  version,
  settings: `work() with batchSize ${BATCH} × localConcurrency ${LOOPS} per process (${BATCH * LOOPS} jobs in flight; batched fetch + one completion statement per batch), burstWhenBatchFull, useListenNotify + queue notify, pollingIntervalSeconds ${POLL_S} (the minimum), pool ${POOL}, queue policy standard, supervise on in worker processes; insert() for bulk`,
  inFlight: BATCH * LOOPS,
  tables: ['pgboss.job'],

  async install(url) {
    const b = boss(url, { migrate: true });
    await b.start();
    await b.createQueue(QUEUE, { policy: 'standard', notify: true });
    await b.stop({ graceful: false, wait: true });
  },

  async reset(c) {
    await c.query('truncate pgboss.job cascade');
  },

  async remaining(c) {
    const { rows } = await c.query(
      "select count(*)::int as n from pgboss.job where name = $1 and state < 'completed' and start_after < now() + interval '1 hour'",
      [QUEUE],
    );
    return rows[0].n;
  },

  async producer(url) {
    const b = boss(url);
    await b.start();
    return {
      one: (input) => b.send(QUEUE, input),
      many: (inputs) =>
        b.insert(
          QUEUE,
          inputs.map((data) => ({ data })),
        ),
      close: () => b.stop({ graceful: false, wait: true }),
    };
  },

  async worker(url, { onJob }) {
    const b = boss(url, { supervise: true });
    return {
      async start() {
        await b.start();
        await b.work(
          QUEUE,
          { batchSize: BATCH, localConcurrency: LOOPS, burstWhenBatchFull: true, pollingIntervalSeconds: POLL_S },
          async (jobs) => {
            for (const j of jobs) onJob(j.data);
          },
        );
      },
      stop: () => b.stop({ graceful: true, wait: true, timeout: 10_000 }),
    };
  },

  async seedBigTable(c, n) {
    await c.query(
      `insert into pgboss.job (name, data, state, policy, created_on, started_on, start_after, completed_on)
       select $2, jsonb_build_object('n', g), 'completed', 'standard', t, t, t, t
         from generate_series(1, $1::int) g, lateral (select now() - interval '1 hour' + g * interval '1 ms' as t) x`,
      [n, QUEUE],
    );
    await c.query(
      `insert into pgboss.job (name, data, state, policy, start_after)
       select $2, jsonb_build_object('n', g), 'created', 'standard', now() + interval '1 day' + g * interval '1 ms'
         from generate_series(1, $1::int) g`,
      [n, QUEUE],
    );
  },
};
