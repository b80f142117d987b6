/**
 * Group limits under SIGKILL chaos (issue 15): four worker processes drain a queue with
 * groupConcurrency (tiers, weights) and a rate-limited queue while a random worker is SIGKILLed
 * every 1.5–2.5 s and replaced. From the execution history (lost attempts included: their
 * interval ends when the rescuer closed them): no group ever had more running attempts than its
 * limit, no window saw more starts than the rate limit, and every job completed exactly once.
 */
import { internals } from '@jobline/core/internal';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { openTestDb, waitFor, type TestDb } from '../helpers/db.js';
import { startWorkerProcess, stopAll, type WorkerProcess } from '../helpers/processes.js';
import { busiestWindow, maxRunningPerGroup, rateViolations } from '../helpers/group-invariants.js';
import { checkJobs, scale, summaryTable } from './checker.js';

let db: TestDb;
const procs: WorkerProcess[] = [];
beforeAll(async () => {
  db = await openTestDb();
});
afterAll(async () => {
  await stopAll(procs);
  await db.close();
});

const WORKER_OPTIONS = JSON.stringify({
  heartbeatIntervalMs: 300,
  staleAfterMs: 1500,
  leaseTtlMs: 1000,
  rescueIntervalMs: 250,
  promoteIntervalMs: 100,
  pollIntervalMs: 200,
  backoff: { baseMs: 50, maxMs: 500 },
});
const LIMITS: Record<string, number> = { t0: 4, t1: 3, t2: 2, t3: 2, t4: 2, t5: 1, t6: 1, t7: 1 };

it('SIGKILL chaos: group limits and rate limits never exceeded, every job completes once', async () => {
  await db.jl.updateQueue('gchaos', { groupConcurrency: { default: 2, tiers: { gold: 4, silver: 3, bronze: 1 } } });
  await db.jl.updateGroup('t0', { tier: 'gold', weight: 3 });
  await db.jl.updateGroup('t1', { tier: 'silver', weight: 2 });
  for (const g of ['t5', 't6', 't7']) await db.jl.updateGroup(g, { tier: 'bronze' });
  await db.jl.updateQueue('rchaos', { rateLimit: { limit: 20, periodMs: 500 }, groupRateLimit: { limit: 6, periodMs: 500 } });
  const perGroup = scale(150, 1500);
  const specs = [
    // t0 has the backlog (half of all jobs); 1 in 25 jobs heartbeats for 600 ms, so kills land mid-attempt
    ...Array.from({ length: perGroup * 8 }, (_, i) => {
      const g = i < perGroup * 4 ? 't0' : `t${1 + (i % 7)}`;
      return i % 25 === 0
        ? { queue: 'gchaos', name: 'heartbeat', group: g, input: { ms: 600 }, maxAttempts: 25, timeoutMs: 400 }
        : { queue: 'gchaos', name: 'sleep', group: g, input: { ms: 15 + (i % 5) * 10 }, maxAttempts: 25 };
    }),
    ...Array.from({ length: scale(200, 1500) }, (_, i) => ({ queue: 'rchaos', name: 'noop', group: `r${i % 4}`, maxAttempts: 25 })),
  ];
  const ids: number[] = [];
  for (let i = 0; i < specs.length; i += 5000) ids.push(...(await db.jl.enqueueMany(specs.slice(i, i + 5000))).map((j) => j.id));
  const gIds = ids.slice(0, perGroup * 8);
  const rIds = ids.slice(perGroup * 8);
  const env = {
    DATABASE_URL: db.url,
    JOBLINE_SCHEMA: db.schema,
    QUEUES: 'gchaos,rchaos',
    CONCURRENCY: '6',
    HANDLER_DELAY_MS: '20',
    WORKER_OPTIONS,
  };
  const live: WorkerProcess[] = [];
  const spawnOne = async () => {
    const p = await startWorkerProcess(env);
    procs.push(p);
    live.push(p);
  };
  await Promise.all(Array.from({ length: 4 }, spawnOne));
  const unfinished = async () =>
    (await db.q(`select count(*)::int as n from $S.jobs where id = any($1) and state not in ('completed','failed','cancelled')`, [ids]))[0]
      .n;
  let kills = 0;
  const deadline = Date.now() + scale(90_000, 480_000);
  while ((await unfinished()) > 0 && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 1500 + Math.random() * 1000));
    if ((await unfinished()) === 0) break;
    const victim = live.splice(Math.floor(Math.random() * live.length), 1)[0]!;
    victim.child.kill('SIGKILL');
    await victim.exited;
    kills++;
    await spawnOne();
  }
  await waitFor(async () => (await unfinished()) === 0, 60_000, 'the queues to drain after the chaos stopped');
  await stopAll(live, 'SIGTERM');

  const v = await checkJobs(internals(db.jl).pool, db.schema, ids);
  const peaks = await maxRunningPerGroup(internals(db.jl).pool, db.schema, gIds);
  const groupWindow = await busiestWindow(internals(db.jl).pool, db.schema, rIds, 500, true);
  const queueWindow = await busiestWindow(internals(db.jl).pool, db.schema, rIds, 500, false);
  summaryTable(`group limits under kill -9 chaos: ${ids.length} jobs, 4 workers`, v, {
    'workers SIGKILLed': kills,
    'peak running per group (limit)': Object.entries(peaks)
      .map(([g, n]) => `${g} ${n}(${LIMITS[g]})`)
      .join(' '),
    'busiest 500 ms window per group (limit 6)': groupWindow,
    'busiest 500 ms window of the queue (limit 20)': queueWindow,
  });
  expect(kills).toBeGreaterThan(0);
  expect(v.lost + v.missingRows).toBe(0);
  expect(v.duplicated).toBe(0);
  expect(v.completedOnce).toBe(ids.length);
  expect(v.rescuedAttempts).toBeGreaterThan(0);
  for (const [g, n] of Object.entries(peaks)) expect(n, g).toBeLessThanOrEqual(LIMITS[g]!);
  // the limits were reached (the check has teeth) for the groups with enough work at once
  expect(peaks.t0).toBe(4);
  expect(await rateViolations(internals(db.jl).pool, db.schema, rIds, 6, 500, true)).toEqual([]);
  expect(await rateViolations(internals(db.jl).pool, db.schema, rIds, 20, 500, false)).toEqual([]);
  // 4 groups × 6 > 20: the queue's limit binds (reached exactly), each group stays at or under its own
  expect(queueWindow).toBe(20);
  expect(groupWindow).toBeGreaterThanOrEqual(5);
  expect(groupWindow).toBeLessThanOrEqual(6);
});
