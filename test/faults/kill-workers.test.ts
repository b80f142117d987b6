/**
 * Scenario 1: four worker processes drain the queue while a chaos loop SIGKILLs a random worker
 * every 2–3 s and starts a replacement. Long handlers that heartbeat are mixed in. Every job
 * must end completed exactly once.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { openTestDb, waitFor, type TestDb } from '../helpers/db.js';
import { startWorkerProcess, stopAll, type WorkerProcess } from '../helpers/processes.js';
import { checkJobs, scale, summaryTable } from './checker.js';
import { checkHandlerLog, handlerLogDir, handlerLogRows, readHandlerLog } from './handler-log.js';
import { internals } from '@jobline/core/internal';

let db: TestDb;
const procs: WorkerProcess[] = [];
beforeAll(async () => {
  db = await openTestDb();
});
afterAll(async () => {
  await stopAll(procs);
  await db.close();
});

// Faster liveness than the defaults so the scenario is short; the mechanism is the same.
const WORKER_OPTIONS = JSON.stringify({
  heartbeatIntervalMs: 300,
  staleAfterMs: 1500,
  leaseTtlMs: 1000,
  rescueIntervalMs: 250,
  promoteIntervalMs: 100,
  backoff: { baseMs: 50, maxMs: 500 },
});

it('SIGKILL chaos: every job completes exactly once', async () => {
  const total = scale(6_000, 50_000);
  const specs = Array.from({ length: total }, (_, i) =>
    i % 100 === 0
      ? { queue: 'chaos', name: 'heartbeat', input: { ms: 1200 }, maxAttempts: 25, timeoutMs: 500 }
      : { queue: 'chaos', name: 'noop', input: { i }, maxAttempts: 25 },
  );
  const ids: number[] = [];
  for (let i = 0; i < specs.length; i += 10_000) ids.push(...(await db.jl.enqueueMany(specs.slice(i, i + 10_000))).map((j) => j.id));
  const log = handlerLogDir();
  const env = {
    DATABASE_URL: db.url,
    JOBLINE_SCHEMA: db.schema,
    QUEUES: 'chaos',
    CONCURRENCY: '8',
    HANDLER_DELAY_MS: '50',
    WORKER_OPTIONS,
    HANDLER_LOG: log.dir,
  };
  const live: WorkerProcess[] = [];
  const spawnOne = async () => {
    const p = await startWorkerProcess(env);
    procs.push(p);
    live.push(p);
  };
  await Promise.all(Array.from({ length: 4 }, spawnOne));

  const S = `"${db.schema}"`;
  const unfinished = async () =>
    (
      await db.sql(`select count(*)::int as n from ${S}.jobs where id = any($1) and state not in ('completed','failed','cancelled')`, [ids])
    )[0].n;
  let kills = 0;
  const deadline = Date.now() + scale(120_000, 480_000);
  while ((await unfinished()) > 0 && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 2000 + Math.random() * 1000));
    if ((await unfinished()) === 0) break;
    const victim = live.splice(Math.floor(Math.random() * live.length), 1)[0];
    victim.child.kill('SIGKILL');
    await victim.exited;
    kills++;
    await spawnOne();
  }
  await waitFor(async () => (await unfinished()) === 0, 60_000, 'the queue to drain after the chaos stopped');
  await stopAll(live, 'SIGTERM');

  const v = await checkJobs(internals(db.jl).pool, db.schema, ids);
  const h = await checkHandlerLog(internals(db.jl).pool, db.schema, ids, readHandlerLog(log.dir));
  log.remove();
  summaryTable(`kill -9 chaos: ${total} jobs, 4 workers`, v, { 'workers SIGKILLed': kills, ...handlerLogRows(h) });
  expect(kills).toBeGreaterThan(0);
  expect(v.lost + v.missingRows).toBe(0);
  expect(v.duplicated).toBe(0);
  expect(v.completedOnce).toBe(total);
  expect(v.rescuedAttempts).toBeGreaterThan(0);
  // and from the handlers' own log: every job's handler ran to its end, every completion is a real run
  expect(h.missing).toEqual([]);
  expect(h.unbacked).toEqual([]);
});
