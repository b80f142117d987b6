/**
 * Scenario 5: a worker is paused (SIGSTOP) past its liveness window while running long jobs.
 * The leader rescues them, another worker completes them, then the zombie resumes (SIGCONT) and
 * reports its stale results: every one must be rejected by the fence and counted.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { openTestDb, waitFor, type TestDb } from '../helpers/db.js';
import { startWorkerProcess, stopAll, type WorkerProcess } from '../helpers/processes.js';
import { checkJobs, summaryTable } from './checker.js';
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

const liveness = {
  heartbeatIntervalMs: 200,
  staleAfterMs: 1000,
  leaseTtlMs: 600,
  rescueIntervalMs: 100,
  promoteIntervalMs: 50,
  pollIntervalMs: 100,
};

it('a resumed zombie’s late completions are rejected and counted; the rescued attempts win', async () => {
  const S = `"${db.schema}"`;
  const base = { DATABASE_URL: db.url, JOBLINE_SCHEMA: db.schema };
  // The zombie alone claims the long jobs first.
  const zombie = await startWorkerProcess({
    ...base,
    QUEUES: 'z',
    CONCURRENCY: '5',
    WORKER_OPTIONS: JSON.stringify({ ...liveness, maintenance: false, timeoutGraceMs: 60_000 }),
  });
  procs.push(zombie);
  const ids = (
    await db.jl.enqueueMany(Array.from({ length: 5 }, () => ({ queue: 'z', name: 'sleep', input: { ms: 2500 }, timeoutMs: 60_000 })))
  ).map((j) => j.id);
  await waitFor(
    async () =>
      (await db.sql(`select count(*)::int as n from ${S}.jobs where worker_id = $1 and state = 'running'`, [zombie.id]))[0].n === 5,
    15_000,
    'the zombie to hold all five',
  );
  zombie.child.kill('SIGSTOP');
  const healthy = await startWorkerProcess({ ...base, QUEUES: 'z', CONCURRENCY: '5', WORKER_OPTIONS: JSON.stringify(liveness) });
  procs.push(healthy);
  await waitFor(
    async () => (await db.sql(`select count(*)::int as n from ${S}.jobs where id = any($1) and state = 'completed'`, [ids]))[0].n === 5,
    30_000,
    'the rescued jobs to complete elsewhere',
  );
  zombie.child.kill('SIGCONT');
  // Its sleeps end and it reports; then it is stopped gracefully and prints its counters.
  await new Promise((r) => setTimeout(r, 3500));
  zombie.child.kill('SIGTERM');
  expect(await zombie.exited).toBe(0);
  const stats = JSON.parse(/stats (\{.*\})/.exec(zombie.output())![1]);
  await stopAll([healthy], 'SIGTERM');

  const v = await checkJobs(internals(db.jl).pool, db.schema, ids);
  const history = await db.sql(
    `select job_id, attempt, worker_id, state from ${S}.job_executions where job_id = any($1) order by job_id, attempt`,
    [ids],
  );
  summaryTable('zombie worker (SIGSTOP past the lease, then SIGCONT)', v, { 'late completions rejected': stats.rejected });
  expect(stats.rejected).toBe(5);
  expect(v.completedOnce).toBe(5);
  expect(v.duplicated).toBe(0);
  for (const id of ids) {
    const rows = history.filter((h) => h.job_id === id);
    expect(rows.map((r) => [r.attempt, r.state, r.worker_id])).toEqual([
      [1, 'lost', zombie.id],
      [2, 'completed', healthy.id],
    ]);
  }
  const outputs = await db.sql(`select output from ${S}.jobs where id = any($1)`, [ids]);
  expect(outputs.every((o) => o.output.slept === 2500)).toBe(true);
});
