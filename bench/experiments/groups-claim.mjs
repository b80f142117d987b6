// Experiment (issue 15): where does the grouped claim's time go during the groups scenario's drain?
//   DATABASE_URL=… [N=100000] [GROUPS=1000] [PLAIN=1] [EXPLAIN_EVERY_MS=3000] node bench/experiments/groups-claim.mjs
// One in-process worker (concurrency 200, the scenario's settings) drains N jobs of group `big`
// while GROUPS-1 small groups trickle one job per second each. Client-side timings of the claim's
// round trips (begin + queue lock, claim, wait look, commit) are summed per kind, and every
// EXPLAIN_EVERY_MS the claim statement runs under EXPLAIN (ANALYZE, BUFFERS) on a side connection
// (in a transaction that is rolled back), so plans can be compared as the drain proceeds.
import pg from 'pg';
import pino from 'pino';
import { Jobline } from '@jobline/core';
import { groupClaimSql } from '../../packages/core/dist/queue/claim-groups-sql.js';

const url = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const N = Number(process.env.N ?? 100_000);
const GROUPS = Number(process.env.GROUPS ?? 1000);
const PLAIN = process.env.PLAIN === '1';
const EXPLAIN_EVERY_MS = Number(process.env.EXPLAIN_EVERY_MS ?? 3000);
const schema = `w15_gc_${process.pid}`;
const s = `"${schema}"`;

// Client-side time per statement kind.
const spent = new Map();
const origQuery = pg.Client.prototype.query;
pg.Client.prototype.query = function (config, values, cb) {
  const text = typeof config === 'string' ? config : (config?.name ?? config?.text ?? '');
  const kind = text.startsWith('jobline_claim_groups_wait')
    ? 'wait'
    : text.startsWith('jobline_claim_groups')
      ? 'claim'
      : text.startsWith('begin; select pg_advisory_xact_lock')
        ? 'lock'
        : text === 'commit'
          ? 'commit'
          : text.startsWith('jobline_claim')
            ? 'plain-claim'
            : undefined;
  const p = origQuery.call(this, config, values, cb);
  if (kind && p && typeof p.then === 'function') {
    const t0 = performance.now();
    p.then(
      () => {
        const e = spent.get(kind) ?? { n: 0, ms: 0, max: 0 };
        const ms = performance.now() - t0;
        e.n++;
        e.ms += ms;
        e.max = Math.max(e.max, ms);
        spent.set(kind, e);
      },
      () => {},
    );
  }
  return p;
};

const jl = await Jobline.connect({ databaseUrl: url, schema, natsUrl: '', poolSize: 10, logger: pino({ level: 'warn' }) });
const admin = new pg.Client({ connectionString: url });
await admin.connect();
try {
  if (!PLAIN) await jl.updateQueue('groups', { groupConcurrency: 1000 });
  const spec = (group, input = {}) => ({ queue: 'groups', name: 'noop', input, ...(PLAIN ? {} : { group }) });
  for (let i = 0; i < N; i += 5000) await jl.enqueueMany(Array.from({ length: Math.min(5000, N - i) }, () => spec('big')));
  await admin.query(`vacuum analyze ${s}.jobs`);
  let handled = 0;
  const w = jl.worker({
    queues: ['groups'],
    concurrency: 200,
    claimBatchSize: 500,
    completionBatchSize: 500,
    completionFlushMs: 2,
    pollIntervalMs: 1000,
    maintenance: false,
    handlers: { noop: async () => void handled++ },
  });
  const t0 = performance.now();
  await w.start();
  let sent = 0;
  let trickling = true;
  const small = GROUPS - 1;
  const trickle = (async () => {
    while (trickling) {
      const due = Math.floor(((performance.now() - t0) / 1000) * small);
      const batch = [];
      while (sent < due) batch.push(spec(`g${sent++ % small}`, { t: Date.now() }));
      if (batch.length) await jl.enqueueMany(batch);
      await new Promise((r) => setTimeout(r, 10));
    }
  })();
  let nextExplain = performance.now() + EXPLAIN_EVERY_MS;
  for (;;) {
    await new Promise((r) => setTimeout(r, 100));
    const { rows } = await admin.query(`select count(*)::int as n from ${s}.jobs where state in ('available', 'running') and input = '{}'`);
    if (!rows[0].n) break;
    if (!PLAIN && EXPLAIN_EVERY_MS > 0 && performance.now() > nextExplain) {
      nextExplain = performance.now() + EXPLAIN_EVERY_MS;
      await admin.query('begin');
      await admin.query(`prepare c(text, int, text, text[], int[], timestamptz[], bigint[]) as ${groupClaimSql(s, false)}`);
      const plan = await admin.query(
        `explain (analyze, buffers, costs off, timing on) execute c('groups', 200, 'explain', '{}', '{}', '{}', '{}')`,
      );
      await admin.query('rollback');
      await admin.query('deallocate all');
      console.log(`--- at ${Math.round(performance.now() - t0)} ms, ${rows[0].n} backlog jobs left`);
      console.log(plan.rows.map((r) => r['QUERY PLAN']).join('\n'));
    }
  }
  const secs = (performance.now() - t0) / 1000;
  trickling = false;
  await trickle;
  await w.stop();
  console.log(
    JSON.stringify({
      plain: PLAIN,
      N,
      groups: GROUPS,
      seconds: Math.round(secs * 10) / 10,
      backlogPerSec: Math.round(N / secs),
      sent,
      handled,
    }),
  );
  for (const [k, e] of spent)
    console.log(`${k}: n=${e.n} total=${Math.round(e.ms)} ms avg=${(e.ms / e.n).toFixed(2)} ms max=${Math.round(e.max)} ms`);
  console.log(`claims: ${w.stats.claimBatches}, jobs per claim ${(w.stats.claimed / w.stats.claimBatches).toFixed(1)}`);
} finally {
  await jl.close();
  await admin.query(`drop schema ${s} cascade`);
  await admin.end();
}
