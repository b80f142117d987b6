// Node CPU per job of jl.enqueueMany (batches of 500) and jl.enqueue (64 callers), against the
// floor's INSERT in the same process and run. Profile with: node --cpu-prof … enqueue-cpu.mjs
import pg from 'pg';
const { Jobline } = await import(process.env.CORE ?? '@jobline/core');
const URL_ = process.env.HP_URL ?? 'postgres://postgres@127.0.0.1:5499/test';
const N = Number(process.env.N ?? 20000),
  SINGLE = Number(process.env.SINGLE ?? 3000);
const schema = 'hp_enq';
const c = new pg.Client({ connectionString: URL_ });
await c.connect();
await c.query(`drop schema if exists ${schema} cascade`);
const jl = await Jobline.connect({ databaseUrl: URL_, schema, natsUrl: '', poolSize: 10, migrate: true });
const inputs = Array.from({ length: N }, (_, i) => ({ n: i, s: 'some text' }));
const measure = async (label, jobs, fn) => {
  const c0 = process.cpuUsage(),
    t0 = performance.now();
  await fn();
  const cu = process.cpuUsage(c0),
    ms = performance.now() - t0;
  console.log(
    `${label.padEnd(22)} ${Math.round((jobs / ms) * 1000)
      .toString()
      .padStart(6)} jobs/s  node ${((cu.user + cu.system) / jobs).toFixed(1)} µs/job`,
  );
};
for (let rep = 0; rep < Number(process.env.REPS ?? 2); rep++) {
  await measure('enqueueMany ×500', N, async () => {
    for (let i = 0; i < N; i += 500) await jl.enqueueMany(inputs.slice(i, i + 500).map((input) => ({ queue: 'q', name: 'noop', input })));
  });
  await measure('enqueue, 64 callers', SINGLE, async () => {
    let k = 0;
    await Promise.all(
      Array.from({ length: 64 }, async () => {
        while (k++ < SINGLE) await jl.enqueue({ queue: 'q', name: 'noop', input: { n: k } });
      }),
    );
  });
  await c.query(`truncate ${schema}.jobs, ${schema}.events`);
}
await jl.close();
await c.query(`drop schema ${schema} cascade`);
await c.end();
