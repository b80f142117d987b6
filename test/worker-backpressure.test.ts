/**
 * Backpressure on unwritten outcomes (worker/outcome-backpressure.ts): a handler's slot is free when
 * it returns, but outcomes waiting to be written beyond an allowance (what the completer writes at
 * once, or one set of slots if more) take slots again.
 * So when completion writes stall, a worker stops claiming instead of running job after job
 * whose results only pile up in memory.
 *
 * The stall is real: a transaction holds `job_executions` in SHARE mode, which blocks the
 * completion statement's history INSERT (ROW EXCLUSIVE) but not the claim (which never touches
 * that table).
 */
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inSchema, openTestDb, waitFor, type TestDb } from './helpers/db.js';

let db: TestDb;
let blocker: pg.Client;
let listener: pg.Client;
beforeAll(async () => {
  db = await openTestDb();
  blocker = new pg.Client({ connectionString: db.url });
  listener = new pg.Client({ connectionString: process.env.JOBLINE_DIRECT_URL || db.url });
  await Promise.all([blocker.connect(), listener.connect()]);
});
afterAll(async () => {
  await Promise.all([blocker.end(), listener.end()]);
  await db.close();
});

const CONCURRENCY = 2;
const JOBS = 40;

describe('worker backpressure', () => {
  it('stops claiming while outcome writes are stalled, and finishes every job once they resume', async () => {
    await db.jl.enqueueMany(Array.from({ length: JOBS }, (_, i) => ({ queue: 'bp', name: 'noop', input: { i } })));
    await blocker.query('begin');
    await blocker.query(inSchema('lock table $S.job_executions in share mode', db.schema));

    // One outcome per completion statement: the allowance of unwritten outcomes that take no slot
    // is then max(concurrency, 2 writes × 1) = 2.
    const w = db.jl.worker({
      queues: ['bp'],
      concurrency: CONCURRENCY,
      completionBatchSize: 1,
      handlers: { noop: () => 'ok' },
      pollIntervalMs: 50,
    });
    let claimed = 0;
    w.on('claimed', (jobs: unknown[]) => void (claimed += jobs.length));
    const engaged: { pendingOutcomes: number }[] = [];
    w.on('backpressure', (e: { pendingOutcomes: number }) => engaged.push(e));
    await w.start();
    try {
      // The signal: the worker's completion statement is waiting for our lock.
      await waitFor(
        async () =>
          (
            await db.sql(
              `select 1 from pg_stat_activity where datname = current_database() and wait_event_type = 'Lock' and query like '%job_executions%' and pid <> $1`,
              [(blocker as any).processID],
            )
          ).length > 0,
        20_000,
        'the completion write to wait for the lock',
      );
      // Wake the worker with work while it is held back: ten NOTIFYs for its queue (each seen by our
      // own LISTEN, so it was delivered) plus its 50 ms poll. The observation window after
      // them is what this test can give for "did not claim": a shorter one only weakens it.
      const notified: string[] = [];
      listener.on('notification', (m) => notified.push(m.payload ?? ''));
      await listener.query(`listen "${db.schema}_jobs"`);
      for (let i = 0; i < 10; i++) {
        // One at a time, each after the last one's NOTIFY arrived (producers debounce NOTIFYs).
        const seen = notified.length;
        await db.jl.enqueue({ queue: 'bp', name: 'noop', input: { extra: i } });
        await waitFor(() => notified.length > seen, 20_000, `the wake-up notification of enqueue ${i + 1}`);
      }
      expect(notified.every((p) => p === 'bp')).toBe(true);
      await new Promise((r) => setTimeout(r, 300)); // six polls of the worker
      // Running attempts, claims in flight and unwritten outcomes never exceed concurrency +
      // allowance (see outcome-backpressure.ts): 2 + 2.
      expect(claimed).toBeLessThanOrEqual(CONCURRENCY + 2);
      const [{ running }] = await db.q(`select count(*)::int as running from $S.jobs where queue = 'bp' and state = 'running'`);
      expect(running).toBe(claimed);
      // …and the worker said why it stopped: more outcomes waiting than slots.
      expect(w.stats.backpressure).toBeGreaterThanOrEqual(1);
      expect(engaged[0].pendingOutcomes).toBeGreaterThan(CONCURRENCY);

      // Writes resume: the backlog is written, claiming resumes, every job completes exactly once.
      await blocker.query('rollback');
      await waitFor(
        async () => (await db.q(`select count(*)::int as n from $S.jobs where queue = 'bp' and state = 'completed'`))[0].n === JOBS + 10,
        30_000,
        'every job to complete',
      );
      const history = await db.q(
        `select count(*)::int as n, count(distinct job_id)::int as jobs from $S.job_executions e join $S.jobs j on j.id = e.job_id where j.queue = 'bp'`,
      );
      expect(history[0]).toEqual({ n: JOBS + 10, jobs: JOBS + 10 });
    } finally {
      await blocker.query('rollback').catch(() => {});
      await w.stop();
    }
  });
});
