/**
 * Group limits across real worker processes (issue 15): three processes claim one queue at once;
 * the execution history shows no group ever ran more attempts at once than its limit (and that the
 * limit was reached, so the check has teeth), and rate limits held in every window.
 */
import { internals } from '@jobline/core/internal';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { openTestDb, waitFor, type TestDb } from './helpers/db.js';
import { startWorkerProcess, stopAll, type WorkerProcess } from './helpers/processes.js';
import { busiestWindow, maxRunningPerGroup, rateViolations } from './helpers/group-invariants.js';

let db: TestDb;
const procs: WorkerProcess[] = [];
beforeAll(async () => {
  db = await openTestDb();
});
afterAll(async () => {
  await stopAll(procs);
  await db.close();
});

const done = async (ids: number[]) =>
  (await db.q(`select count(*)::int as n from $S.jobs where id = any($1) and state = 'completed'`, [ids]))[0].n;

it('groupConcurrency with tiers is exact across three worker processes; rate limits hold in every window', async () => {
  await db.jl.updateQueue('gp', { groupConcurrency: { default: 2, tiers: { pro: 3 } } });
  await db.jl.updateGroup('g0', { tier: 'pro' });
  await db.jl.updateQueue('gr', { rateLimit: { limit: 10, periodMs: 300 }, groupRateLimit: { limit: 4, periodMs: 300 } });
  const specs = [
    ...Array.from({ length: 150 }, (_, i) => ({ queue: 'gp', name: 'sleep', group: `g${i % 5}`, input: { ms: 20 + (i % 4) * 10 } })),
    ...Array.from({ length: 60 }, (_, i) => ({ queue: 'gr', name: 'noop', group: `r${i % 3}` })),
  ];
  const jobs = await db.jl.enqueueMany(specs);
  const gp = jobs.filter((j) => j.queue === 'gp').map((j) => j.id);
  const gr = jobs.filter((j) => j.queue === 'gr').map((j) => j.id);
  // An observer independent of the history: samples running rows per group while they drain.
  const peak: Record<string, number> = {};
  let sampling = true;
  const sampler = (async () => {
    while (sampling) {
      for (const r of await db.q(
        `select group_key as g, count(*)::int as n from $S.jobs where queue = 'gp' and state = 'running' group by 1`,
      )) {
        peak[r.g] = Math.max(peak[r.g] ?? 0, r.n);
      }
      await new Promise((r) => setTimeout(r, 3));
    }
  })();
  const env = {
    DATABASE_URL: db.url,
    JOBLINE_SCHEMA: db.schema,
    QUEUES: 'gp,gr',
    CONCURRENCY: '6',
    WORKER_OPTIONS: JSON.stringify({ pollIntervalMs: 200 }),
  };
  procs.push(...(await Promise.all([startWorkerProcess(env), startWorkerProcess(env), startWorkerProcess(env)])));
  await waitFor(async () => (await done([...gp, ...gr])) === jobs.length, 60_000, 'both queues to drain');
  sampling = false;
  await sampler;
  const hist = await maxRunningPerGroup(internals(db.jl).pool, db.schema, gp);
  expect(hist).toEqual({ g0: 3, g1: 2, g2: 2, g3: 2, g4: 2 });
  for (const [g, n] of Object.entries(peak)) expect(n).toBeLessThanOrEqual(g === 'g0' ? 3 : 2);
  // the work was spread over the processes (not one process doing everything)
  const workers = await db.q(`select count(distinct worker_id)::int as n from $S.job_executions where job_id = any($1)`, [gp]);
  expect(workers[0].n).toBe(3);
  expect(await rateViolations(internals(db.jl).pool, db.schema, gr, 4, 300, true)).toEqual([]);
  expect(await rateViolations(internals(db.jl).pool, db.schema, gr, 10, 300, false)).toEqual([]);
  expect(await busiestWindow(internals(db.jl).pool, db.schema, gr, 300, true)).toBe(4);
}, 90_000);
