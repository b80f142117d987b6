/**
 * Scenario 2: `pg_terminate_backend` on every worker connection every few seconds during a run.
 * Workers must reconnect by themselves (pool, LISTEN client, completer retries) and lose nothing.
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

it('terminated backends: workers reconnect and every job completes exactly once', async () => {
  const total = scale(5_000, 30_000);
  const ids = (
    await db.jl.enqueueMany(Array.from({ length: total }, (_, i) => ({ queue: 'term', name: 'noop', input: { i }, maxAttempts: 25 })))
  ).map((j) => j.id);
  const appName = `jl-term-${process.pid}`;
  const log = handlerLogDir();
  const env = {
    DATABASE_URL: db.url,
    JOBLINE_SCHEMA: db.schema,
    QUEUES: 'term',
    CONCURRENCY: '8',
    HANDLER_DELAY_MS: '40',
    APP_NAME: appName,
    HANDLER_LOG: log.dir,
    WORKER_OPTIONS: JSON.stringify({
      heartbeatIntervalMs: 300,
      staleAfterMs: 3000,
      leaseTtlMs: 1000,
      rescueIntervalMs: 250,
      promoteIntervalMs: 100,
      backoff: { baseMs: 50, maxMs: 500 },
    }),
  };
  procs.push(...(await Promise.all(Array.from({ length: 3 }, () => startWorkerProcess(env)))));
  const S = `"${db.schema}"`;
  const unfinished = async () =>
    (
      await db.sql(`select count(*)::int as n from ${S}.jobs where id = any($1) and state not in ('completed','failed','cancelled')`, [ids])
    )[0].n;

  let rounds = 0;
  let terminated = 0;
  const deadline = Date.now() + scale(90_000, 300_000);
  while ((await unfinished()) > 0 && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 1500 + Math.random() * 1500));
    const rows = await db.sql(
      `select count(*) filter (where pg_terminate_backend(pid))::int as n from pg_stat_activity
        where application_name like $1 and pid <> pg_backend_pid()`,
      [`${appName}%`],
    );
    terminated += rows[0].n;
    rounds++;
  }
  await waitFor(async () => (await unfinished()) === 0, 60_000, 'drain after the last termination');
  await stopAll(procs, 'SIGTERM');
  const exits = await Promise.all(procs.map((p) => p.exited));

  const v = await checkJobs(internals(db.jl).pool, db.schema, ids);
  const h = await checkHandlerLog(internals(db.jl).pool, db.schema, ids, readHandlerLog(log.dir));
  log.remove();
  summaryTable(`pg_terminate_backend every 1.5–3 s: ${total} jobs, 3 workers`, v, {
    'termination rounds': rounds,
    'backends terminated': terminated,
    ...handlerLogRows(h),
  });
  expect(terminated).toBeGreaterThan(0);
  expect(exits).toEqual([0, 0, 0]); // the workers survived every termination
  expect(v.lost + v.missingRows).toBe(0);
  expect(v.duplicated).toBe(0);
  expect(v.completedOnce).toBe(total);
  expect(h.missing).toEqual([]);
  expect(h.unbacked).toEqual([]);
});
