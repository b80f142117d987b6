// Where the enqueue → handler-start latency of `latency-200` goes (issue 14, latency p99 target):
// per job, the producer's enqueue call (t0 → its promise resolved), the wake-up (t0 → the worker
// process's own LISTEN connection receiving the NOTIFY) and the rest (claim and dispatch).
// WAIT_SAMPLE=1 adds what the backends wait on (pg_stat_activity every 2 ms), EXPLAIN=1 the plain
// claim's plan on the table as the run left it, STATEMENTS=N the N costliest statements.
// One producer in this process at RATE jobs/s for SECONDS, one worker process forked with the
// bench's Jobline settings, on the bench's own PostgreSQL cluster (started and removed here).
//
//   node bench/experiments/latency-split.mjs                # Jobline
//   SYSTEM=raw node bench/experiments/latency-split.mjs     # the raw floor, same split
//   RATE=400 SECONDS=20 node bench/experiments/latency-split.mjs
//
// Run it on Node 24 (bench/lib/node-line.mjs) to match the bench. Prints percentiles per part.
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { now, sleep } from '../lib/clock.mjs';
import { loadSystem } from '../systems/index.mjs';

const SYSTEM = process.env.SYSTEM ?? 'jobline';
const RATE = Number(process.env.RATE ?? 200);
const SECONDS = Number(process.env.SECONDS ?? 10);
const CHANNEL = SYSTEM === 'raw' ? 'raw_floor_jobs' : 'jobline_jobs';

const pct = (xs, p) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] : Number.NaN;
};
const row = (name, xs) =>
  `${name.padEnd(28)} p50 ${pct(xs, 50).toFixed(2)}  p90 ${pct(xs, 90).toFixed(2)}  p99 ${pct(xs, 99).toFixed(2)}  max ${pct(xs, 100).toFixed(2)} ms`;

if (process.env.SPLIT_CHILD) {
  // Worker process: the system's worker, plus a LISTEN connection of its own timing notifications.
  const { url } = JSON.parse(process.env.SPLIT_CHILD);
  const system = await loadSystem(SYSTEM);
  const starts = [];
  const notified = [];
  const listen = new pg.Client({ connectionString: url });
  await listen.connect();
  listen.on('notification', () => notified.push(now()));
  await listen.query(`listen ${CHANNEL}`);
  const w = process.env.NO_WORKER
    ? { start() {}, stop() {} }
    : await system.worker(url, { concurrency: 200, onJob: (input) => input?.t && starts.push([input.t, now()]) });
  await w.start();
  process.send({ type: 'ready' });
  process.on('message', async (m) => {
    if (m.type !== 'stop') return;
    await w.stop();
    await listen.end();
    process.send({ type: 'done', starts, notified });
    process.disconnect();
  });
} else {
  const { startOwnServer } = await import('../lib/own-server.mjs');
  const server = await startOwnServer(console.log);
  const admin = new pg.Client({ connectionString: server.url });
  try {
    await admin.connect();
    await admin.query('create database split');
    const url = server.url.replace(/\/postgres$/, '/split');
    const system = await loadSystem(SYSTEM);
    await system.install(url);
    const child = fork(fileURLToPath(import.meta.url), [], { env: { ...process.env, SPLIT_CHILD: JSON.stringify({ url }) } });
    const msg = (type) => new Promise((r) => child.on('message', (m) => m.type === type && r(m)));
    await msg('ready');
    const p = await system.producer(url);
    // Jobline: the insert statement's own round trip, timed at the pool, beside the whole call.
    const queryMs = [];
    if (p.jobline) {
      const pool = p.jobline.pool;
      const query = pool.query.bind(pool);
      pool.query = (...args) => {
        const t = now();
        const r = query(...args);
        if (args[0]?.name?.startsWith('jobline_insert')) r.then(() => queryMs.push(now() - t));
        return r;
      };
    }
    for (let i = 0; i < 50; i++) await p.one({ t: now(), warm: true });
    await sleep(1000);
    // WAIT_SAMPLE=1: what the active backends wait on, sampled every 2 ms from pg_stat_activity.
    const waits = new Map();
    let sampling = !!process.env.WAIT_SAMPLE;
    const sampler = (async () => {
      while (sampling) {
        const { rows } = await admin.query(
          `select application_name as app, coalesce(wait_event_type || ':' || wait_event, 'CPU') as w, left(query, 30) as q
             from pg_stat_activity where datname = 'split' and state = 'active' and pid <> pg_backend_pid()`,
        );
        for (const r of rows) {
          const k = `${r.app} | ${r.w} | ${r.q}`;
          waits.set(k, (waits.get(k) ?? 0) + 1);
        }
        await sleep(2);
      }
    })();
    const sends = new Map(); // t0 → t1
    const total = RATE * SECONDS;
    const t0 = now();
    let sent = 0;
    const pending = [];
    while (sent < total) {
      const due = Math.min(total, Math.floor(((now() - t0) / 1000) * RATE) + 1);
      while (sent < due) {
        sent++;
        const t = now();
        pending.push(p.one({ t }).then(() => sends.set(t, now())));
      }
      await sleep(1);
    }
    await Promise.all(pending);
    await sleep(process.env.NO_WORKER ? 200 : 1500);
    sampling = false;
    await sampler;
    const done = msg('done');
    child.send({ type: 'stop' });
    const { starts, notified } = await done;
    await p.close();
    const wake = [];
    const rest = [];
    const total_ = [];
    for (const [t, started] of starts) {
      if (!sends.has(t)) continue; // warm-up
      total_.push(started - t);
      // The first notification received after the send began: a NOTIFY of its own sent after the
      // insert resolved, or (an idle producer's leading edge) one delivered at the insert's commit.
      let lo = 0;
      let hi = notified.length;
      while (lo < hi) {
        const mid = (lo + hi) >> 1;
        if (notified[mid] < t) lo = mid + 1;
        else hi = mid;
      }
      const n = notified[lo];
      if (n !== undefined && n <= started) {
        wake.push(n - t);
        rest.push(started - n);
      } else rest.push(started - t);
    }
    console.log(`${SYSTEM} at ${RATE}/s for ${SECONDS} s: ${total_.length} jobs, ${notified.length} notifications`);
    console.log(row('enqueue → handler start', total_));
    console.log(
      row(
        'enqueue call',
        [...sends].map(([t, t1]) => t1 - t),
      ),
    );
    if (queryMs.length) console.log(row('  of it, the insert query', queryMs.slice(50)));
    console.log(row('send → NOTIFY received', wake));
    console.log(row('NOTIFY → handler start', rest));
    for (const [k, n] of [...waits].sort((a, b) => b[1] - a[1]).slice(0, 15)) console.log(`  ${String(n).padStart(5)}  ${k}`);
    const st =
      await admin.query(`select calls, round(mean_exec_time::numeric*1000) as mean_us, round(stddev_exec_time::numeric*1000) as sd_us,
        round(max_exec_time::numeric*1000) as max_us, round(wal_bytes) as wal, left(regexp_replace(query, '\\s+', ' ', 'g'), 90) as q
        from pg_stat_statements s join pg_database d on d.oid = s.dbid where d.datname = 'split' order by total_exec_time desc limit ${Number(process.env.STATEMENTS ?? 6)}`);
    for (const r of st.rows) console.log(`  ${r.calls} calls, mean ${r.mean_us} sd ${r.sd_us} max ${r.max_us} µs WAL ${r.wal}  ${r.q}`);
    // EXPLAIN=1: the plain claim (one queue, from the head) as the worker runs it, on this table now.
    if (process.env.EXPLAIN && SYSTEM.startsWith('jobline')) {
      const { makeClaimer } = await import('../../packages/core/dist/queue/claim.js');
      let cfg;
      await makeClaimer('jobline')({ query: async (c) => ((cfg = c), { rows: [] }) }, ['bench'], 500, 'explain');
      const c = new pg.Client({ connectionString: url });
      await c.connect();
      await c.query('begin');
      const { rows } = await c.query(`explain (analyze, buffers, costs off) ${cfg.text}`, cfg.values);
      await c.query('rollback');
      await c.end();
      console.log(rows.map((r) => r['QUERY PLAN']).join('\n'));
    }
  } finally {
    await admin.end().catch(() => {});
    await server.stop();
  }
}
