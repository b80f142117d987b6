// Experiment (issue 16): does the executor claim filter cost the hot path? Run alone:
//   DATABASE_URL=… N=20000 node bench/experiments/claim-filter-drain.mjs
// Drain of N no-op jobs by one in-process worker (concurrency 200), claims unfiltered vs filtered
// (a container definition exists and the worker does not run containers).
import pg from 'pg';
import pino from 'pino';
import { Jobline } from '@jobline/core';
import { internals } from '@jobline/core/internal';
const url = process.env.DATABASE_URL;
const N = Number(process.env.N ?? 20000);
async function run(filtered) {
  const schema = `w16_fd_${process.pid}_${filtered ? 'f' : 'u'}`;
  const jl = await Jobline.connect({ databaseUrl: url, schema, natsUrl: '', logger: pino({ level: 'warn' }) });
  if (filtered) await jl.createDefinition({ name: 'c', executor: 'container', image: 'localhost/x:1', defaults: { queue: 'other' } });
  for (let i = 0; i < N; i += 5000) await jl.enqueueMany(Array.from({ length: 5000 }, () => ({ queue: 'd', name: 'noop' })));
  await internals(jl).pool.query(`vacuum analyze "${schema}".jobs`);
  let done = 0;
  let resolve;
  const all = new Promise((r) => (resolve = r));
  const w = jl.worker({
    queues: ['d'],
    concurrency: 200,
    maintenance: false,
    handlers: {
      noop: () => {
        if (++done === N) resolve();
        return null;
      },
    },
  });
  const t0 = performance.now();
  await w.start();
  await all;
  await new Promise((r) => {
    const chk = async () => {
      const { rows } = await internals(jl).pool.query(`select count(*)::int n from "${schema}".jobs where state <> 'completed'`);
      rows[0].n ? setTimeout(chk, 10) : r();
    };
    chk();
  });
  const s = (performance.now() - t0) / 1000;
  await w.stop();
  await jl.close();
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  await c.query(`drop schema "${schema}" cascade`);
  await c.end();
  return Math.round(N / s);
}
for (const f of Array.from({ length: 2 * Number(process.env.PAIRS ?? 2) }, (_, i) => i % 2 === 1))
  console.log(f ? 'filtered  ' : 'unfiltered', await run(f), 'jobs/s');
