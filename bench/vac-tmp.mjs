import pg from 'pg';
import { createDatabase, dropDatabase } from './lib/server.mjs';
import { loadSystem } from './systems/index.mjs';
import { steady } from './scenarios/steady.mjs';
import { PARAMS } from './scenarios/index.mjs';
const base = 'postgres://postgres@127.0.0.1:5432/postgres';
const system = await loadSystem('jobline');
const url = await createDatabase(base, 'bench_scratch_vac');
await system.install(url);
for (const every of (process.argv[2] ?? '0,5000,0,2000').split(',').map(Number)) {
  let stop = false, vacs = 0, vacMs = 0;
  const vac = every ? (async () => { const c = new pg.Client({ connectionString: url }); await c.connect(); await new Promise((r) => setTimeout(r, 1500));
    while (!stop) { const t = performance.now(); await c.query('vacuum jobline.jobs'); vacMs += performance.now() - t; vacs++; await new Promise((r) => setTimeout(r, every)); } await c.end(); })() : null;
  const r = await steady({ system, url, params: { ...PARAMS.full, steady: { ...PARAMS.full.steady, seconds: 40 } } });
  stop = true; await vac;
  console.log(`vacuum every ${every || '-'} ms: ${Math.round(r.jobsPerSec)} jobs/s, per-second p50 ${r.perSecond.p50}, pg us/job ${r.cpu.perJobUs.postgres}, vacuums ${vacs} avg ${vacs ? Math.round(vacMs / vacs) : 0} ms, load ${(await import('node:os')).loadavg()[0].toFixed(1)}`);
}
await dropDatabase(base, 'bench_scratch_vac');
