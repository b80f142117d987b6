// EXPLAIN (ANALYZE, WAL) of the claim and completion statements, with and without their event
// CTEs, on a fresh schema with B available jobs; each in a rolled-back transaction, repeated R times.
//   HP_URL=… node bench/experiments/explain-hot.mjs
import pg from 'pg';
import { Jobline } from '@jobline/core';
const URL_ = process.env.HP_URL ?? 'postgres://postgres@127.0.0.1:5499/test';
const B = Number(process.env.B ?? 500),
  R = Number(process.env.R ?? 7);
const schema = 'hp_explain';
const c = new pg.Client({ connectionString: URL_ });
await c.connect();
await c.query(`drop schema if exists ${schema} cascade`);
const jl = await Jobline.connect({ databaseUrl: URL_, schema, natsUrl: '', poolSize: 2, migrate: true });
for (let k = 0; k < Number(process.env.ROWS ?? B * 4); k += 5000)
  await jl.enqueueMany(
    Array.from({ length: Math.min(5000, Number(process.env.ROWS ?? B * 4) - k) }, (_, i) => ({
      queue: 'q',
      name: 'noop',
      input: { n: i },
    })),
  );
await jl.close();
await c.query(`vacuum analyze ${schema}.jobs`);
const vmod = await import(process.env.VARIANTS_FILE);
const variants = (process.env.EVENTS ? vmod.eventVariants : vmod.default)(schema, B);
// Round-robin over the variants with a VACUUM between rounds, so the dead tuples of rolled-back
// attempts neither accumulate nor favour the variants that run first.
// The backend's own CPU (utime + stime from /proc, 10 ms ticks summed over the rounds): unlike
// wall time it does not grow with the machine's load.
const bpid = (await c.query('select pg_backend_pid() p')).rows[0].p;
const { readFileSync } = await import('node:fs');
const cpuMs = () => {
  const f = readFileSync(`/proc/${bpid}/stat`, 'utf8')
    .slice(readFileSync(`/proc/${bpid}/stat`, 'utf8').lastIndexOf(')') + 2)
    .split(' ');
  return (+f[11] + +f[12]) * 10;
};
const cpu = {};
const names = Object.keys(variants).filter((n) => !process.env.ONLY || new RegExp(process.env.ONLY).test(n)),
  times = Object.fromEntries(names.map((n) => [n, []])),
  wal = {};
for (let r = 0; r < R; r++) {
  for (const name of names) {
    const { setup, sql, params } = variants[name];
    await c.query('begin');
    if (setup) await c.query(setup);
    const l0 = (await c.query('select pg_current_wal_insert_lsn() l')).rows[0].l;
    const k0 = cpuMs();
    const t0 = performance.now();
    await c.query(process.env.RAW ? sql : `explain (analyze, format json) ${sql}`, params);
    times[name].push(performance.now() - t0);
    cpu[name] = (cpu[name] ?? 0) + cpuMs() - k0;
    wal[name] = (await c.query('select pg_wal_lsn_diff(pg_current_wal_insert_lsn(), $1)::float8 b', [l0])).rows[0].b;
    await c.query('rollback');
  }
  await c.query(`vacuum ${schema}.jobs, ${schema}.events, ${schema}.job_executions`);
}
for (const name of names) {
  const t = times[name].sort((a, b) => a - b);
  console.log(
    `${name.padEnd(32)} backend CPU ${((cpu[name] * 1000) / R / B).toFixed(1).padStart(5)} µs/job  wall median ${((t[R >> 1] * 1000) / B).toFixed(1).padStart(6)} µs/job  p25 ${((t[R >> 2] * 1000) / B).toFixed(1).padStart(6)}  WAL ${(wal[name] / B).toFixed(0).padStart(5)} B/job (last round)`,
  );
}
await c.query(`drop schema ${schema} cascade`);
await c.end();
