import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ValidationError } from '@jobline/core';
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

describe('queue settings', () => {
  it('validates settings, naming the field', async () => {
    await expect(db.jl.updateQueue('bad name', { paused: true })).rejects.toMatchObject({ issues: [{ path: 'name' }] });
    const err = await db.jl.updateQueue('ok', { concurrencyLimit: 0, emitEvents: ['nope'] } as never).catch((e) => e);
    expect(err).toBeInstanceOf(ValidationError);
    expect(err.issues.map((i: { path: string }) => i.path).sort()).toEqual(['concurrencyLimit', 'emitEvents.0']);
    expect(await db.jl.updateQueue('ok', { maxAttempts: 2, timeoutMs: 1000 })).toEqual({ name: 'ok', paused: false, maxAttempts: 2, timeoutMs: 1000 });
    expect(await db.jl.updateQueue('ok', { maxAttempts: null, paused: true })).toEqual({ name: 'ok', paused: true, timeoutMs: 1000 });
    // queue defaults apply to jobs enqueued without their own
    expect(await db.jl.enqueue({ queue: 'ok', name: 'x' })).toMatchObject({ timeoutMs: 1000, maxAttempts: 5 });
  });

  it('emitEvents limits which job events the outbox records', async () => {
    await db.jl.updateQueue('quiet', { emitEvents: ['completed'] });
    const j = await db.jl.enqueue({ queue: 'quiet', name: 'x' });
    const w = db.jl.worker({ queues: ['quiet'], handlers: { x: async () => 1 } });
    await w.start();
    await waitFor(async () => (await db.jl.getJob(j.id)).state === 'completed');
    await w.stop();
    const ev = await db.sql(`select type from "${db.schema}".events where job_id = $1`, [j.id]);
    expect(ev.map((e) => e.type)).toEqual(['dev.jobline.job.completed']);
  });

  it('concurrencyLimit caps running jobs across worker processes', async () => {
    await db.jl.updateQueue('lim', { concurrencyLimit: 3 });
    const ids = (await db.jl.enqueueMany(Array.from({ length: 30 }, () => ({ queue: 'lim', name: 'sleep', input: { ms: 150 } })))).map((j) => j.id);
    const env = { DATABASE_URL: db.url, JOBLINE_SCHEMA: db.schema, QUEUES: 'lim', CONCURRENCY: '10' };
    procs.push(...(await Promise.all([startWorkerProcess(env), startWorkerProcess(env)])));
    await waitFor(async () => (await db.sql(`select count(*)::int as n from "${db.schema}".jobs where id = any($1) and state = 'completed'`, [ids]))[0].n === 30, 60_000, 'all done');
    // The most attempts running at any one moment, from the execution history.
    const [peak] = await db.sql(
      `select max(n)::int as peak from (
         select (select count(*) from "${db.schema}".job_executions b
                  where b.job_id = any($1) and b.started_at <= a.started_at and b.finished_at > a.started_at) as n
           from "${db.schema}".job_executions a where a.job_id = any($1)) x`,
      [ids],
    );
    const workersUsed = await db.sql(`select count(distinct worker_id)::int as n from "${db.schema}".job_executions where job_id = any($1)`, [ids]);
    expect(peak.peak).toBeLessThanOrEqual(3);
    expect(peak.peak).toBeGreaterThanOrEqual(2);
    expect(workersUsed[0].n).toBe(2);
  });
});
