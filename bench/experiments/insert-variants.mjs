// One-at-a-time enqueue at a paced rate: round trip per insert statement, Jobline's statement
// against variants of it and the raw floor's (issue 14, latency p99 target; the enqueue call was
// most of the gap to the raw floor in latency-split.mjs). Own PostgreSQL cluster, one connection
// per variant, variants interleaved in rounds so machine drift hits each alike.
//
//   node bench/experiments/insert-variants.mjs        # RATE=200 N=1000 ROUNDS=3
import pg from 'pg';
import { now, sleep } from '../lib/clock.mjs';
import { startOwnServer } from '../lib/own-server.mjs';

const RATE = Number(process.env.RATE ?? 200);
const N = Number(process.env.N ?? 1000);
const ROUNDS = Number(process.env.ROUNDS ?? 3);

const pct = (xs, p) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
};

const server = await startOwnServer(() => {});
const admin = new pg.Client({ connectionString: server.url });
try {
  await admin.connect();
  await admin.query('create database iv');
  const url = server.url.replace(/\/postgres$/, '/iv');
  const { Jobline } = await import('../../packages/core/dist/index.js');
  const jl = await Jobline.connect({ databaseUrl: url, poolSize: 2, migrate: true });
  // Jobline's own insert statement and values, captured from its pool.
  let captured;
  const q = jl.pool.query.bind(jl.pool);
  jl.pool.query = (cfg, ...rest) => {
    if (cfg?.name?.startsWith('jobline_insert')) captured ??= cfg;
    return q(cfg, ...rest);
  };
  await jl.enqueue({ queue: 'bench', name: 'noop', input: { t: 1 } });
  await jl.close();
  const text = captured.text;
  // The captured one-job arrays, with the input (parameter 7) carrying the send time.
  const arrayValues = (t) => captured.values.map((v, i) => (i === 6 ? [JSON.stringify({ t })] : v));
  const variants = {
    jobline: { text, values: arrayValues },
    'no on conflict': {
      text: text.replace(/on conflict \(queue, idempotency_key\) where idempotency_key is not null do nothing/, ''),
      values: arrayValues,
    },
    'no event row': {
      text: text.replace(/\), ev as \([\s\S]*\)\s*select id, state/, ') select id, state'),
      values: arrayValues,
    },
    // One job, scalar parameters: no array literals to build, send and parse.
    scalar: {
      text: text.replace(
        /select \* from unnest\([\s\S]*?ord\)/,
        `select $1::text as queue, $2::text as name, $3::int as priority, $4::timestamptz as run_at, $5::int as max_attempts,
                $6::int as timeout_ms, $7::jsonb as input, $8::text as idempotency_key, $9::text as definition,
                $10::text as traceparent, $11::text as group_key, 1::bigint as ord`,
      ),
      values: (t) => captured.values.map((v, i) => (i === 6 ? JSON.stringify({ t }) : v[0])),
    },
    raw: {
      text: `with ins as (
        insert into jobline.jobs (queue, name, state, input) values ($1, 'noop', 'available', $2) returning id, queue, name
      ), ev as (
        insert into jobline.events (type, subject, job_id, data)
        select 'dev.jobline.job.enqueued', 'jobline.job.' || queue || '.enqueued.' || id, id,
               jsonb_build_object('jobId', id, 'queue', queue, 'name', name, 'state', 'available') from ins
      ) select id from ins`,
      values: (t) => ['bench', JSON.stringify({ t })],
    },
  };
  const clients = {};
  for (const [name, v] of Object.entries(variants)) {
    const c = new pg.Client({ connectionString: url });
    await c.connect();
    clients[name] = c;
    for (let i = 0; i < 20; i++) await c.query({ name: `v_${name}`, text: v.text, values: v.values(0) });
  }
  const results = Object.fromEntries(Object.keys(variants).map((k) => [k, []]));
  for (let r = 0; r < ROUNDS; r++) {
    for (const [name, v] of Object.entries(variants)) {
      const c = clients[name];
      const t0 = now();
      const pending = [];
      for (let sent = 0; sent < N; ) {
        const due = Math.min(N, Math.floor(((now() - t0) / 1000) * RATE) + 1);
        while (sent < due) {
          sent++;
          const t = now();
          pending.push(c.query({ name: `v_${name}`, text: v.text, values: v.values(t) }).then(() => results[name].push(now() - t)));
        }
        await sleep(1);
      }
      await Promise.all(pending);
    }
  }
  for (const [name, xs] of Object.entries(results))
    console.log(
      `${name.padEnd(16)} n ${xs.length}  p50 ${pct(xs, 50).toFixed(2)}  p90 ${pct(xs, 90).toFixed(2)}  p99 ${pct(xs, 99).toFixed(2)} ms`,
    );
  const st = await admin.query(`select calls, round(mean_exec_time::numeric*1000) as mean_us, round(wal_bytes / calls) as wal_b,
      left(regexp_replace(query, '\\s+', ' ', 'g'), 70) as q
      from pg_stat_statements s join pg_database d on d.oid = s.dbid where d.datname = 'iv' and calls > 100 order by calls desc`);
  for (const r of st.rows) console.log(`  ${r.calls} calls, exec ${r.mean_us} µs, WAL ${r.wal_b} B  ${r.q}`);
  for (const c of Object.values(clients)) await c.end();
} finally {
  await admin.end().catch(() => {});
  await server.stop();
}
