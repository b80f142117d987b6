/**
 * Scenario 3: PostgreSQL restarts mid-run. The scenario owns its server (an embedded PostgreSQL it
 * starts), so parallel tests are untouched. Workers and the producer reconnect by themselves; a
 * producer retries with an idempotency key, so an enqueue whose acknowledgement was lost is never
 * doubled. Nothing committed may be lost; recovery time is measured.
 */
import pino from 'pino';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { Jobline } from '@jobline/core';
import { startEmbeddedPostgres, type EmbeddedPostgres } from '@jobline/embedded';
import { waitFor } from '../helpers/db.js';
import { startWorkerProcess, stopAll, type WorkerProcess } from '../helpers/processes.js';
import { checkJobs, scale, summaryTable } from './checker.js';
import { checkHandlerLog, handlerLogDir, handlerLogRows, readHandlerLog } from './handler-log.js';
import { internals } from '@jobline/core/internal';

let pg: EmbeddedPostgres;
let jl: Jobline;
const procs: WorkerProcess[] = [];
const schema = 'restart';
beforeAll(async () => {
  pg = await startEmbeddedPostgres();
  jl = await Jobline.connect({ databaseUrl: pg.url, schema, logger: pino({ level: 'silent' }) });
});
afterAll(async () => {
  await stopAll(procs);
  await jl?.close();
  await pg?.stop();
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

it('a PostgreSQL restart loses nothing; workers and producer recover by themselves', async () => {
  // The handler log is a file per process: it survives the database going down.
  const log = handlerLogDir();
  const env = {
    DATABASE_URL: pg.url,
    JOBLINE_SCHEMA: schema,
    QUEUES: 'rs',
    CONCURRENCY: '8',
    HANDLER_DELAY_MS: '20',
    HANDLER_LOG: log.dir,
    WORKER_OPTIONS: JSON.stringify({
      heartbeatIntervalMs: 300,
      staleAfterMs: 4000,
      leaseTtlMs: 1000,
      rescueIntervalMs: 250,
      promoteIntervalMs: 100,
      pollIntervalMs: 200,
      backoff: { baseMs: 50, maxMs: 500 },
    }),
  };
  procs.push(...(await Promise.all(Array.from({ length: 2 }, () => startWorkerProcess(env)))));

  // The producer: one job at a time, retried with the same idempotency key until acknowledged.
  const acknowledged: number[] = [];
  let producing = true;
  let enqueueErrors = 0;
  const producer = (async () => {
    for (let i = 0; producing; i++) {
      for (;;) {
        try {
          const j = await jl.enqueue({ queue: 'rs', name: 'noop', input: { i }, idempotencyKey: `rs-${i}`, maxAttempts: 25 });
          acknowledged.push(j.id);
          break;
        } catch {
          enqueueErrors++;
          await sleep(100);
        }
      }
      await sleep(5);
    }
  })();

  const completed = async () =>
    Number((await internals(jl).pool.query(`select count(*) from ${schema}.jobs where state = 'completed'`)).rows[0].count);
  await waitFor(async () => (await completed()) > 200, 30_000, 'work before the restart');
  const downMs = scale(2_000, 5_000);
  await pg.halt();
  const haltedAt = Date.now();
  await sleep(downMs);
  await pg.start();
  const upAt = Date.now();
  // Recovery: the first job that starts after the server is back up completes.
  let recoveryMs = 0;
  await waitFor(
    async () => {
      try {
        const { rows } = await internals(jl).pool.query(
          `select count(*)::int as n from ${schema}.job_executions where started_at > to_timestamp($1 / 1000.0) and state = 'completed'`,
          [upAt],
        );
        if (rows[0].n > 0) recoveryMs = Date.now() - upAt;
        return rows[0].n > 0;
      } catch {
        return false;
      }
    },
    60_000,
    'work to resume after the restart',
  );
  await sleep(scale(2_000, 10_000));
  producing = false;
  await producer;
  await waitFor(
    async () => {
      const { rows } = await internals(jl).pool.query(
        `select count(*)::int as n from ${schema}.jobs where state not in ('completed','failed','cancelled')`,
      );
      return rows[0].n === 0;
    },
    60_000,
    'drain',
  );
  await stopAll(procs, 'SIGTERM');
  const exits = await Promise.all(procs.map((p) => p.exited));

  const v = await checkJobs(internals(jl).pool, schema, acknowledged);
  const h = await checkHandlerLog(internals(jl).pool, schema, acknowledged, readHandlerLog(log.dir));
  log.remove();
  const { rows: keys } = await internals(jl).pool.query(
    `select count(*)::int as rows, count(distinct idempotency_key)::int as keys from ${schema}.jobs`,
  );
  summaryTable(`PostgreSQL restart (down ${downMs} ms)`, v, {
    'enqueue errors retried': enqueueErrors,
    'recovery time (server up → first completion)': `${recoveryMs} ms`,
    'downtime observed': `${upAt - haltedAt} ms`,
    ...handlerLogRows(h),
  });
  expect(enqueueErrors).toBeGreaterThan(0); // the producer did see the outage
  expect(exits).toEqual([0, 0]);
  expect(keys[0].rows).toBe(keys[0].keys); // no doubled enqueue
  expect(new Set(acknowledged).size).toBe(acknowledged.length);
  expect(v.lost + v.missingRows).toBe(0);
  expect(v.duplicated).toBe(0);
  expect(v.completedOnce).toBe(acknowledged.length);
  expect(h.missing).toEqual([]);
  expect(h.unbacked).toEqual([]);
});
