/**
 * Concurrency is proven with real processes (DESIGN §8): four worker processes drain 20,000
 * jobs and the database must show every job completed exactly once.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openTestDb, waitFor, type TestDb } from './helpers/db.js';
import { startWorkerProcess, stopAll, type WorkerProcess } from './helpers/processes.js';

let db: TestDb;
const procs: WorkerProcess[] = [];
beforeAll(async () => {
  db = await openTestDb();
});
afterAll(async () => {
  await stopAll(procs);
  await db.close();
});

describe('four worker processes', () => {
  it('drain 20,000 jobs with every job completed exactly once', async () => {
    const total = 20_000;
    await db.jl.enqueueMany(Array.from({ length: total }, (_, i) => ({ queue: 'drain', name: 'noop', input: { i } })));
    const env = { DATABASE_URL: db.url, JOBLINE_SCHEMA: db.schema, QUEUES: 'drain', CONCURRENCY: '100' };
    procs.push(...(await Promise.all(Array.from({ length: 4 }, () => startWorkerProcess(env)))));
    const S = `"${db.schema}"`;
    await waitFor(
      async () => (await db.sql(`select count(*)::int as n from ${S}.jobs where queue = 'drain' and state = 'completed'`))[0].n === total,
      120_000,
      'all jobs completed',
    );
    // graceful stop via SIGTERM: every process exits 0
    await stopAll(procs, 'SIGTERM');
    expect(await Promise.all(procs.map((p) => p.exited))).toEqual([0, 0, 0, 0]);

    const [check] = await db.sql(`
      select count(*)::int as jobs,
             count(*) filter (where state = 'completed')::int as completed,
             count(*) filter (where attempt <> 1)::int as reattempted,
             count(distinct worker_id)::int as workers,
             count(*) filter (where output->>'i' is null)::int as wrong_output
        from ${S}.jobs where queue = 'drain'`);
    expect(check).toEqual({ jobs: total, completed: total, reattempted: 0, workers: 4, wrong_output: 0 });
    const [hist] = await db.sql(`
      select count(*)::int as rows, count(distinct job_id)::int as jobs,
             count(*) filter (where state = 'completed')::int as completed
        from ${S}.job_executions`);
    expect(hist).toEqual({ rows: total, jobs: total, completed: total });
    // each job's output is its own input: no worker crossed wires
    const [mismatch] = await db.sql(`select count(*)::int as n from ${S}.jobs where queue = 'drain' and output <> input`);
    expect(mismatch.n).toBe(0);
    const [ev] = await db.sql(`select count(*)::int as n from ${S}.events where type = 'dev.jobline.job.completed'`);
    expect(ev.n).toBe(total);
  });
});
