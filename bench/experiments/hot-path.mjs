// Hot-path accounting (issue 14, point 3): per job, what Jobline writes and spends against the
// minimal floor, measured in the same run. Load-independent measures first (WAL bytes, rows,
// statements, CPU µs per job), throughput second (the machine is shared and noisy).
//
//   HP_URL=postgres://postgres@127.0.0.1:5499/test N=20000 node bench/experiments/hot-path.mjs
//
// HP_URL should be a throwaway cluster with shared_preload_libraries=pg_stat_statements (for
// per-statement calls, time and WAL); without the extension those columns are left empty.
// The CPU of PostgreSQL is read from /proc when the cluster runs on this machine: the postmaster's
// own and reaped children's time (every backend of the phase exits before it is read) plus its
// live children (walwriter, checkpointer, autovacuum).
//
// Systems: `floor` — the minimal floor of issue 14: claim ≤500 FOR UPDATE SKIP LOCKED, then one
// fenced completion statement that inserts one history row and one small outbox row, 4 loops;
// bulk enqueue in batches of 500 (job row + one small event row), one-at-a-time by a prepared
// INSERT. `jobline` — the public API: enqueueMany, enqueue, a worker at concurrency 1,000
// (claimBatchSize 500, completionBatchSize 500, flushMs 2, as bench/systems/jobline.mjs).
import { fork } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import pg from 'pg';

const URL_ = process.env.HP_URL ?? process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5499/test';
const N = Number(process.env.N ?? 20000);
const SINGLE = Number(process.env.SINGLE ?? 4000);
const SYSTEMS = (process.env.SYSTEMS ?? 'floor,jobline').split(',');
const PROCS = (process.env.PROCS ?? '1,4').split(',').map(Number);
const CONC = Number(process.env.CONC ?? 1000);
const QUEUE = 'hp';
// System `before`: Jobline from another build of core (BEFORE_DIST, e.g. a copy of
// packages/core/dist built at the base commit, kept inside the repository so its imports resolve).
const coreFor = (system) =>
  system === 'before' ? import(new URL(`${process.env.BEFORE_DIST}/index.js`, `file://${process.cwd()}/`).href) : import('@jobline/core');
pg.types.setTypeParser(20, (v) => Number(v));

// ---------------------------------------------------------------------------------------- floor
const floorSql = (s) => ({
  insertMany: `with x as (insert into ${s}.jobs (queue, name, state, input) select $1, 'noop', 'available', i from unnest($2::jsonb[]) i
            returning id, queue, name)
    insert into ${s}.events (type, subject, job_id, data)
    select 'dev.jobline.job.enqueued', 'jobline.job.' || queue || '.enqueued.' || id, id,
           jsonb_build_object('jobId', id, 'queue', queue, 'name', name, 'state', 'available') from x`,
  insertOne: `with ins as (insert into ${s}.jobs (queue, name, state, input) values ($1, 'noop', 'available', $2) returning id, queue, name),
    ev as (insert into ${s}.events (type, subject, job_id, data)
      select 'dev.jobline.job.enqueued', 'jobline.job.' || queue || '.enqueued.' || id, id,
             jsonb_build_object('jobId', id, 'queue', queue, 'name', name, 'state', 'available') from ins)
    select id from ins`,
  claim: `update ${s}.jobs j set state = 'running', attempt = j.attempt + 1, worker_id = $3, claimed_at = now(), started_at = now(), updated_at = now()
     where j.id = any(array(select id from ${s}.jobs where state = 'available' and queue = $1 and run_at <= now()
                            order by priority, run_at, id limit $2 for update skip locked))
    returning j.id, j.attempt, j.input`,
  complete: `with i as (select * from unnest($1::bigint[], $2::int[]) as i(id, attempt)),
    u as (update ${s}.jobs j set state = 'completed', completed_at = now(), updated_at = now() from i
           where j.id = i.id and j.attempt = i.attempt and (j.state || '') = 'running'
          returning j.id, j.attempt, j.queue, j.worker_id, j.started_at),
    h as (insert into ${s}.job_executions (job_id, attempt, worker_id, state, started_at, finished_at, duration_ms)
          select id, attempt, worker_id, 'completed', started_at, now(), 0 from u)
    insert into ${s}.events (type, subject, job_id, data)
    select 'dev.jobline.job.completed', 'jobline.job.' || queue || '.completed.' || id, id,
           jsonb_build_object('jobId', id, 'queue', queue, 'state', 'completed', 'attempt', attempt) from u`,
});

// ------------------------------------------------------------------------------- child: a worker
async function child(system, schema) {
  let done = 0;
  let stop;
  if (system === 'floor') {
    const q = floorSql(`"${schema}"`);
    const pool = new pg.Pool({ connectionString: URL_, max: 4 });
    let stopping = false;
    const loop = async () => {
      const c = await pool.connect();
      while (!stopping) {
        const { rows } = await c.query({ name: 'c', text: q.claim, values: [QUEUE, 500, `floor-${process.pid}`] });
        if (!rows.length) {
          await new Promise((r) => setTimeout(r, 5));
          continue;
        }
        for (const r of rows) if (r.input) done++;
        await c.query({ name: 'f', text: q.complete, values: [rows.map((r) => r.id), rows.map((r) => r.attempt)] });
      }
      c.release();
    };
    let loops;
    process.once('message', () => {
      loops = Array.from({ length: 4 }, loop);
    });
    stop = async () => {
      stopping = true;
      await Promise.all(loops);
      await pool.end();
    };
  } else {
    const { Jobline } = await coreFor(system);
    const jl = await Jobline.connect({ databaseUrl: URL_, schema, natsUrl: '', poolSize: 10, migrate: false });
    const w = jl.worker({
      queues: [QUEUE],
      concurrency: CONC,
      claimBatchSize: 500,
      completionBatchSize: 500,
      completionFlushMs: 2,
      pollIntervalMs: 1000,
      relay: false,
      scheduler: false,
      handlers: {
        noop: () => {
          done++;
          return null;
        },
      },
    });
    process.once('message', () => void w.start());
    stop = async () => {
      await w.stop();
      await jl.close();
    };
  }
  const cpu0 = process.cpuUsage();
  process.send({ ready: true });
  process.on('message', async (m) => {
    if (m !== 'stop') return;
    const cpu = process.cpuUsage(cpu0);
    await stop();
    process.send({ done, cpuUs: cpu.user + cpu.system, rss: process.memoryUsage().rss });
    process.exit(0);
  });
}

// ------------------------------------------------------------------------------ parent: measures
function pgCpuUs(postmasterPid) {
  if (!postmasterPid) return NaN;
  const tick = 1e6 / 100;
  const stat = (pid) =>
    readFileSync(`/proc/${pid}/stat`, 'utf8')
      .slice(readFileSync(`/proc/${pid}/stat`, 'utf8').lastIndexOf(')') + 2)
      .split(' ');
  const s = stat(postmasterPid);
  let t = (+s[11] + +s[12] + +s[13] + +s[14]) * tick; // utime stime cutime cstime
  for (const p of readdirSync('/proc')) {
    if (!/^\d+$/.test(p)) continue;
    try {
      const c = stat(p);
      if (+c[1] === postmasterPid) t += (+c[11] + +c[12]) * tick;
    } catch {}
  }
  return t;
}

async function main() {
  if (process.argv[2] === '--child') return child(process.argv[3], process.argv[4]);
  const admin = new pg.Client({ connectionString: URL_ });
  await admin.connect();
  const hasPss = (await admin.query(`select count(*)::int n from pg_extension where extname = 'pg_stat_statements'`)).rows[0].n > 0;
  let pmPid = 0;
  try {
    const dir = (await admin.query('show data_directory')).rows[0].data_directory;
    pmPid = Number(readFileSync(`${dir}/postmaster.pid`, 'utf8').split('\n')[0]);
  } catch {}
  const out = [];

  const phase = async (schema, label, fn) => {
    // Every other backend of the phase has exited when this reads (stats flushed, CPU reaped).
    await admin.query('select pg_stat_reset()');
    if (hasPss) await admin.query('select pg_stat_statements_reset()');
    await admin.query('checkpoint'); // so full-page writes count the same for every phase
    const lsn0 = (await admin.query('select pg_current_wal_insert_lsn() l')).rows[0].l;
    const cpu0 = pgCpuUs(pmPid);
    const t0 = performance.now();
    const r = await fn();
    const secs = r.secsInner ?? (performance.now() - t0) / 1000;
    await new Promise((res) => setTimeout(res, 300));
    const cpu1 = pgCpuUs(pmPid);
    const wal = (await admin.query(`select pg_wal_lsn_diff(pg_current_wal_insert_lsn(), $1)::float8 b`, [lsn0])).rows[0].b;
    const tabs = (
      await admin.query(
        `select relname, n_tup_ins i, n_tup_upd u, n_tup_hot_upd h, n_tup_del d from pg_stat_user_tables where schemaname = $1 and (n_tup_ins + n_tup_upd + n_tup_del) > 0 order by relname`,
        [schema],
      )
    ).rows;
    const idx = (await admin.query(`select sum(idx_scan)::int scans from pg_stat_user_indexes where schemaname = $1`, [schema])).rows[0]
      .scans;
    let stmts = [];
    if (hasPss) {
      stmts = (
        await admin.query(
          `select calls::int, total_exec_time::float8 ms, rows::int, wal_bytes::float8 wal, left(regexp_replace(query, '\\s+', ' ', 'g'), 70) q
           from pg_stat_statements where query not ilike '%pg_stat%' and query not ilike '%pg_current_wal%' and query not ilike 'checkpoint%'
          order by total_exec_time desc limit 8`,
        )
      ).rows;
    }
    const jobs = r.jobs;
    const row = {
      label,
      jobs,
      secs,
      rate: jobs / secs,
      walPerJob: wal / jobs,
      pgCpuUs: (cpu1 - cpu0) / jobs,
      nodeCpuUs: r.nodeCpuUs / jobs,
      rows: tabs
        .map(
          (t) =>
            `${t.relname.replace('job_executions', 'exec')}:${[t.i && `+${t.i}`, t.u && `u${t.u}${t.h ? `(hot ${t.h})` : ''}`, t.d && `-${t.d}`].filter(Boolean).join('/')}`,
        )
        .join(' '),
      rowsPerJob: tabs.reduce((a, t) => a + Number(t.i) + Number(t.u) + Number(t.d), 0) / jobs,
      stmtsPerJob: stmts.length ? stmts.reduce((a, x) => a + x.calls, 0) / jobs : NaN,
      stmts,
      rss: r.rss,
      idxScans: idx,
    };
    out.push(row);
    console.log(
      `${label.padEnd(26)} ${Math.round(row.rate).toString().padStart(7)} jobs/s  WAL ${row.walPerJob.toFixed(0).padStart(5)} B/job  rows ${row.rowsPerJob.toFixed(2)}/job  pg ${row.pgCpuUs.toFixed(1)} µs/job  node ${row.nodeCpuUs.toFixed(1)} µs/job  ${row.rss ? `rss ${(row.rss / 2 ** 20).toFixed(0)} MiB ` : ''}[${row.rows}]`,
    );
    if (process.env.VERBOSE)
      for (const x of stmts)
        console.log(
          `    ${String(x.calls).padStart(6)} calls ${x.ms.toFixed(0).padStart(6)} ms ${(x.wal / jobs).toFixed(0).padStart(5)} WAL B/job ${x.q}`,
        );
    return r;
  };

  for (const system of SYSTEMS) {
    const schema = `hp_${system}`;
    await admin.query(`drop schema if exists "${schema}" cascade`);
    const { Jobline } = await coreFor(system);
    const setup = await Jobline.connect({ databaseUrl: URL_, schema, natsUrl: '', poolSize: 2, migrate: true });
    // EMIT=none|completed,…: the queue's emit_events (a bound on what events cost); unset = all.
    if (process.env.EMIT) await setup.updateQueue(QUEUE, { emitEvents: process.env.EMIT === 'none' ? [] : process.env.EMIT.split(',') });
    await setup.close();
    const q = floorSql(`"${schema}"`);
    const inputs = Array.from({ length: N }, (_, i) => ({ n: i }));

    // Producers connect before the clock and the Node CPU count start (Jobline.connect checks the
    // schema version: tens of ms that would otherwise be charged to the jobs).
    const producer = async (max) => {
      if (system === 'floor') {
        const pool = new pg.Pool({ connectionString: URL_, max });
        await Promise.all(Array.from({ length: max }, () => pool.connect())).then((cs) => cs.forEach((c) => c.release()));
        return {
          many: (chunk) => pool.query({ name: 'm', text: q.insertMany, values: [QUEUE, chunk.map((x) => JSON.stringify(x))] }),
          one: () => pool.query({ name: 'o', text: q.insertOne, values: [QUEUE, '{"n":1}'] }),
          close: () => pool.end(),
        };
      }
      const jl = await Jobline.connect({ databaseUrl: URL_, schema, natsUrl: '', poolSize: max, migrate: false });
      await jl.enqueueMany([{ queue: 'warm', name: 'w' }]);
      return {
        many: (chunk) => jl.enqueueMany(chunk.map((input) => ({ queue: QUEUE, name: 'noop', input }))),
        one: () => jl.enqueue({ queue: QUEUE, name: 'noop', input: { n: 1 } }),
        close: () => jl.close(),
      };
    };
    const timed = async (max, fn, jobs) => {
      const p = await producer(max);
      const cpu0 = process.cpuUsage();
      const t0 = performance.now();
      await fn(p);
      const secsInner = (performance.now() - t0) / 1000;
      const c = process.cpuUsage(cpu0);
      await p.close();
      return { jobs, nodeCpuUs: c.user + c.system, secsInner };
    };
    // Bulk: batches of BULK (default 1,000, as bench/scenarios/enqueue.mjs), one connection, serial.
    const BULK = Number(process.env.BULK ?? 1000);
    const enqueueBulk = () =>
      timed(
        1,
        async (p) => {
          for (let i = 0; i < N; i += BULK) await p.many(inputs.slice(i, i + BULK));
        },
        N,
      );
    const enqueueSingle = () =>
      timed(
        10,
        async (p) => {
          let next = 0;
          await Promise.all(
            Array.from({ length: 64 }, async () => {
              while (next++ < SINGLE) await p.one();
            }),
          );
        },
        SINGLE,
      );
    const drain = (procs, jobs) => async () => {
      const kids = Array.from({ length: procs }, () =>
        fork(new URL(import.meta.url).pathname, ['--child', system, schema], {
          stdio: 'inherit',
          execArgv: process.env.CPUPROF ? ['--cpu-prof', `--cpu-prof-dir=${process.env.CPUPROF}`] : [],
        }),
      );
      await Promise.all(kids.map((k) => new Promise((r) => k.once('message', r))));
      // PERF=<file>: perf record of this cluster's client backends for the drain (PostgreSQL's own profile).
      let perf;
      if (process.env.PERF && procs === 1) {
        await new Promise((r) => setTimeout(r, 300));
        const pids = (
          await admin.query(
            `select string_agg(pid::text, ',') p from pg_stat_activity where backend_type = 'client backend' and pid <> pg_backend_pid() and datname = current_database()`,
          )
        ).rows[0].p;
        const { spawn } = await import('node:child_process');
        perf = spawn('perf', ['record', '-F', '2000', '-g', '-o', process.env.PERF, '-p', pids], { stdio: 'ignore' });
        await new Promise((r) => setTimeout(r, 500));
      }
      const t0 = performance.now();
      kids.forEach((k) => k.send('go'));
      const poll = new pg.Client({ connectionString: URL_ });
      await poll.connect();
      for (;;) {
        // Through the partial indexes (claim, running): a count over the whole table every 20 ms
        // was up to half the PostgreSQL time of a drain and made slower systems look costlier.
        const { rows } = await poll.query(
          `select exists (select 1 from "${schema}".jobs where state = 'available' and queue = $1)
            or exists (select 1 from "${schema}".jobs where state = 'running' and worker_id is not null) as busy`,
          [QUEUE],
        );
        if (!rows[0].busy) break;
        await new Promise((r) => setTimeout(r, 50));
      }
      const secs = (performance.now() - t0) / 1000;
      if (perf) {
        perf.kill('SIGINT');
        await new Promise((r) => perf.once('exit', r));
      }
      await poll.end();
      const res = await Promise.all(
        kids.map(
          (k) =>
            new Promise((r) => {
              k.once('message', r);
              k.send('stop');
            }),
        ),
      );
      return { jobs, nodeCpuUs: res.reduce((a, x) => a + x.cpuUs, 0), rss: Math.max(...res.map((x) => x.rss)), secsInner: secs };
    };

    await phase(schema, `${system} bulk enqueue`, enqueueBulk);
    await admin.query(`vacuum analyze "${schema}".jobs`);
    if (PROCS.includes(1)) await phase(schema, `${system} drain 1p`, drain(1, N));
    if (PROCS.includes(4)) {
      await phase(schema, `${system} bulk enqueue (again)`, enqueueBulk);
      await admin.query(`vacuum analyze "${schema}".jobs`);
      await phase(schema, `${system} drain 4p`, drain(4, N));
    }
    await phase(schema, `${system} single enqueue`, enqueueSingle);
    await admin.query(`drop schema "${schema}" cascade`);
  }
  if (process.env.JSON_OUT) (await import('node:fs')).writeFileSync(process.env.JSON_OUT, JSON.stringify(out, null, 1));
  await admin.end();
}

await main();
