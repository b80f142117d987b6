/**
 * pg-boss 10 at its documented best for throughput: `work()` with `batchSize` (the handler gets
 * the whole batch and pg-boss completes it with one statement), more than one `work()` loop per
 * process where useful (v10 removed teamSize; the docs say to call work() again), and the
 * shortest allowed polling interval (0.5 s). pg-boss has no LISTEN/NOTIFY: polling is its only
 * wake-up, and a loop waits out the interval even after a full batch, so its throughput is
 * (jobs in flight) ÷ 0.5 s — measured exactly so on this machine (bench/README.md).
 *
 * Two configurations: `pg-boss` with the same 200 jobs in flight per process as the other
 * systems (batchSize 200, one loop), and `pg-boss-max` with 8,000 in flight (batchSize 2,000 ×
 * 4 loops), the fastest stable setting found — shown so nobody has to guess what pg-boss does
 * unconstrained.
 */
// pg-boss 12 has no default export (bench's devDependency is ^12 since issue 15's groups scenario);
// the named export keeps this file loading, and insert() takes the queue name first in 12.
import * as pgBoss from 'pg-boss';
const PgBoss = pgBoss.PgBoss ?? pgBoss.default;

const QUEUE = 'bench';
const POLL_S = 0.5;

const boss = (url, extra = {}) => {
  const b = new PgBoss({ connectionString: url, max: 10, schedule: false, supervise: false, migrate: false, ...extra });
  b.on('error', () => {});
  return b;
};

export function makePgBoss({ name, label, batchSize, loops, scenarios }) {
  return {
    name,
    label,
    scenarios,
    settings: `work() × ${loops} loop${loops > 1 ? 's' : ''} per process, batchSize ${batchSize} (${batchSize * loops} jobs in flight; batched fetch + one completion statement per batch), pollingIntervalSeconds ${POLL_S} (the minimum; pg-boss has no LISTEN/NOTIFY), pool 10, queue policy standard, supervise on in worker processes; insert() for bulk`,
    inFlight: batchSize * loops,
    tables: ['pgboss.job'],

    async install(url) {
      const b = boss(url, { migrate: true });
      await b.start();
      await b.createQueue(QUEUE, { policy: 'standard' });
      await b.stop({ graceful: false, wait: true });
    },

    async reset(c) {
      await c.query('truncate pgboss.job'); // pg-boss 12 keeps finished jobs in job (no archive table)
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
        many: (inputs) => b.insert(QUEUE, inputs.map((data) => ({ data }))), // pg-boss 12: insert(name, jobs)
        close: () => b.stop({ graceful: false, wait: true }),
      };
    },

    async worker(url, { onJob }) {
      const b = boss(url, { supervise: true });
      return {
        async start() {
          await b.start();
          for (let i = 0; i < loops; i++) {
            await b.work(QUEUE, { batchSize, pollingIntervalSeconds: POLL_S }, async (jobs) => {
              for (const j of jobs) onJob(j.data);
            });
          }
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
}

export default makePgBoss({
  name: 'pg-boss',
  label: 'pg-boss 12.38',
  batchSize: Number(process.env.BENCH_PGBOSS_BATCH ?? 200),
  loops: Number(process.env.BENCH_PGBOSS_LOOPS ?? 1),
});
