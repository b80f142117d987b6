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
    expect(await db.jl.updateQueue('ok', { maxAttempts: 2, timeoutMs: 1000 })).toEqual({
      name: 'ok',
      paused: false,
      maxAttempts: 2,
      timeoutMs: 1000,
    });
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
    // Three jobs claimed first (priority -1) that finish only once three of the queue run at once,
    // on processes of concurrency 2: the limit is reached by construction, and only across both
    // processes. Without the limit the two processes would run four at a time.
    const meet = Array.from({ length: 3 }, () => ({ queue: 'lim', name: 'rendezvous', priority: -1, input: { quorum: 3 } }));
    const rest = Array.from({ length: 27 }, () => ({ queue: 'lim', name: 'sleep', input: { ms: 150 } }));
    const ids = (await db.jl.enqueueMany([...meet, ...rest])).map((j) => j.id);
    const env = { DATABASE_URL: db.url, JOBLINE_SCHEMA: db.schema, QUEUES: 'lim', CONCURRENCY: '2' };
    // An observer independent of the execution history (whose started_at is the claiming
    // transaction's start, so intervals can seem to overlap by a few ms): samples the queue's
    // running rows, which the limit bounds in every snapshot.
    let peak = 0;
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        const [r] = await db.sql(`select count(*)::int as n from "${db.schema}".jobs where queue = 'lim' and state = 'running'`);
        peak = Math.max(peak, r.n);
        await new Promise((r) => setTimeout(r, 5));
      }
    })();
    procs.push(...(await Promise.all([startWorkerProcess(env), startWorkerProcess(env)])));
    await waitFor(
      async () =>
        (await db.sql(`select count(*)::int as n from "${db.schema}".jobs where id = any($1) and state = 'completed'`, [ids]))[0].n === 30,
      60_000,
      'all done',
    );
    sampling = false;
    await sampler;
    expect(peak).toBeLessThanOrEqual(3);
    // the three rendezvous jobs each saw three running at once: the limit was reached
    const met = await db.sql(`select output from "${db.schema}".jobs where id = any($1) and name = 'rendezvous'`, [ids]);
    expect(met.map((r) => r.output)).toEqual([{ met: 3 }, { met: 3 }, { met: 3 }]);
    const workersUsed = await db.sql(
      `select count(distinct worker_id)::int as n from "${db.schema}".job_executions where job_id = any($1)`,
      [ids],
    );
    expect(workersUsed[0].n).toBe(2);
  });
});
