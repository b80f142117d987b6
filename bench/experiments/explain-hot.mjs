// EXPLAIN (ANALYZE, WAL) of the claim and completion statements, with and without their event
// CTEs, on a fresh schema with B available jobs; each in a rolled-back transaction, repeated R times.
//   HP_URL=… node bench/experiments/explain-hot.mjs
import pg from 'pg';
import { Jobline } from '@jobline/core';
const URL_ = process.env.HP_URL ?? 'postgres://postgres@127.0.0.1:5499/test';
const B = Number(process.env.B ?? 500), R = Number(process.env.R ?? 7);
const schema = 'hp_explain';
const c = new pg.Client({ connectionString: URL_ }); await c.connect();
await c.query(`drop schema if exists ${schema} cascade`);
const jl = await Jobline.connect({ databaseUrl: URL_, schema, natsUrl: '', poolSize: 2, migrate: true });
await jl.enqueueMany(Array.from({ length: B * 4 }, (_, i) => ({ queue: 'q', name: 'noop', input: { n: i } })));
await jl.close();
await c.query(`vacuum analyze ${schema}.jobs`);
const vmod = await import(process.env.VARIANTS_FILE);
const variants = (process.env.EVENTS ? vmod.eventVariants : vmod.default)(schema, B);
// Round-robin over the variants with a VACUUM between rounds, so the dead tuples of rolled-back
// attempts neither accumulate nor favour the variants that run first.
const names = Object.keys(variants), times = Object.fromEntries(names.map((n) => [n, []]));
for (let r = 0; r < R; r++) {
  for (const name of names) {
    const { setup, sql, params } = variants[name];
    await c.query('begin');
    if (setup) await c.query(setup);
    const t0 = performance.now();
    await c.query(`explain (analyze, format json) ${sql}`, params);
    times[name].push(performance.now() - t0);
    await c.query('rollback');
  }
  await c.query(`vacuum ${schema}.jobs, ${schema}.events, ${schema}.job_executions`);
}
for (const name of names) {
  const t = times[name].sort((a, b) => a - b);
  console.log(`${name.padEnd(32)} median ${(t[R >> 1] * 1000 / B).toFixed(1).padStart(6)} µs/job  p25 ${(t[R >> 2] * 1000 / B).toFixed(1).padStart(6)}`);
}
await c.query(`drop schema ${schema} cascade`); await c.end();
