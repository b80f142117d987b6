import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConflictError, NonRetryableError, NotFoundError } from '@jobline/core';
import { DEPTH_COUNT_CAP } from '@jobline/core/inspect';
import { openTestDb, waitFor, type TestDb } from './helpers/db.js';

let db: TestDb;
beforeAll(async () => {
  db = await openTestDb();
});
afterAll(async () => {
  await db?.close();
});

/** Runs a worker until `ids` reached a terminal state. */
async function drain(handlers: Record<string, (input: any) => Promise<unknown>>, queue: string, ids: number[]) {
  const w = db.jl.worker({ queues: [queue], concurrency: 4, handlers, scheduler: false } as any);
  await w.start();
  await waitFor(
    async () => {
      const rows = await db.sql(
        `select count(*)::int as n from "${db.schema}".jobs where id = any($1) and state in ('completed','failed','cancelled')`,
        [ids],
      );
      return rows[0].n === ids.length;
    },
    20_000,
    'jobs to finish',
  );
  await w.stop();
}

describe('jl.retry', () => {
  it('makes a failed job run again: one more attempt, history kept, a retrying event, no fake history row', async () => {
    const job = await db.jl.enqueue({ queue: 'rq', name: 'flaky', maxAttempts: 1 });
    let calls = 0;
    const handlers = {
      flaky: async () => {
        calls++;
        if (calls === 1) throw new NonRetryableError('first time fails');
        return { ok: calls };
      },
    };
    await drain(handlers, 'rq', [job.id]);
    expect((await db.jl.getJob(job.id)).state).toBe('failed');
    expect(await db.jl.executions(job.id)).toHaveLength(1);

    const retried = await db.jl.retry(job.id);
    expect(retried).toMatchObject({ state: 'available', attempt: 1, maxAttempts: 2 });
    expect(await db.jl.executions(job.id)).toHaveLength(1); // nothing ran yet, nothing recorded
    const ev = await db.sql(`select type from "${db.schema}".events where job_id = $1 order by id`, [job.id]);
    expect(ev.map((e) => e.type).at(-1)).toBe('dev.jobline.job.retrying');

    await expect(db.jl.retry(job.id)).rejects.toBeInstanceOf(ConflictError); // already available: fenced
    await drain(handlers, 'rq', [job.id]);
    const done = await db.jl.getJob(job.id);
    expect(done).toMatchObject({ state: 'completed', attempt: 2, output: { ok: 2 } });
    expect((await db.jl.executions(job.id)).map((e) => e.state)).toEqual(['failed', 'completed']);
  });

  it('refuses unknown ids, completed jobs and jobs of settled DAG runs', async () => {
    await expect(db.jl.retry(999_999)).rejects.toBeInstanceOf(NotFoundError);
    const run = await db.jl.submitDag({ name: 'd', nodes: [{ key: 'a', queue: 'rq-dag', name: 'x' }] });
    await db.jl.cancelDag(run.id);
    await expect(db.jl.retry(run.nodes[0].jobId)).rejects.toThrow(/DAG run/);
  });

  it('retryMany retries only the filtered failed jobs, newest first, up to the limit', async () => {
    const mk = (name: string) => db.jl.enqueue({ queue: 'bulk', name, maxAttempts: 1 });
    const jobs = [await mk('a'), await mk('a'), await mk('a'), await mk('b')];
    await drain(
      {
        a: async () => {
          throw new Error('no');
        },
        b: async () => {
          throw new Error('no');
        },
      },
      'bulk',
      jobs.map((j) => j.id),
    );
    const r1 = await db.jl.retryMany({ queue: 'bulk', name: 'a', limit: 2 });
    expect(r1).toEqual({ retried: 2, ids: [jobs[2].id, jobs[1].id], more: true });
    const r2 = await db.jl.retryMany({ queue: 'bulk', name: 'a' });
    expect(r2).toEqual({ retried: 1, ids: [jobs[0].id], more: false });
    expect((await db.jl.getJob(jobs[3].id)).state).toBe('failed');
  });
});

describe('jl.inspect', () => {
  it('pages queues by name with depth per state, settings and the oldest available job', async () => {
    await db.jl.updateQueue('zz-config-only', { paused: true, concurrencyLimit: 3 });
    await db.jl.enqueueMany([
      { queue: 'zz-a', name: 'n' },
      { queue: 'zz-a', name: 'n' },
      { queue: 'zz-b', name: 'n' },
    ]);
    const p1 = await db.jl.inspect.queues({ prefix: 'zz-', limit: 2 });
    expect(p1.queues.map((q) => q.name)).toEqual(['zz-a', 'zz-b']);
    expect(p1.queues[0].depth.available).toEqual({ n: 2, estimated: false });
    expect(p1.queues[0].oldestAvailable?.id).toBeGreaterThan(0);
    const p2 = await db.jl.inspect.queues({ prefix: 'zz-', after: p1.nextAfter });
    expect(p2.queues).toEqual([{ name: 'zz-config-only', paused: true, concurrencyLimit: 3, depth: {} }]);
    expect(p2.nextAfter).toBeUndefined();
    expect((await db.jl.inspect.queues({ only: ['zz-b'] })).queues.map((q) => q.name)).toEqual(['zz-b']);
  });

  it('counts depth exactly up to the cap and extrapolates, marked, beyond it', async () => {
    await db.jl.enqueueMany(Array.from({ length: DEPTH_COUNT_CAP + 500 }, () => ({ queue: 'zz-big', name: 'n' })));
    await db.jl.enqueueMany(Array.from({ length: 3 }, () => ({ queue: 'zz-big', name: 'n', runAt: new Date(Date.now() + 60_000) })));
    await db.sql(`analyze "${db.schema}".jobs`);
    const [q] = (await db.jl.inspect.queues({ only: ['zz-big'] })).queues;
    expect(q.depth.scheduled).toEqual({ n: 3, estimated: false });
    // A contiguous backlog: the id-density extrapolation is exact.
    expect(q.depth.available).toEqual({ n: DEPTH_COUNT_CAP + 500, estimated: true });
    const tables = await db.jl.inspect.tables();
    expect(tables.jobs).toBeGreaterThan(DEPTH_COUNT_CAP);
  });

  it('reports the hour: per-minute series and per-queue failure rate and pickup latency', async () => {
    const t = await db.jl.inspect.throughput();
    const rq = t.queues.find((q) => q.queue === 'bulk')!;
    // Three of the four were retried above (available again); the one left failed counts.
    expect(rq).toMatchObject({ failed: 1, completed: 0, failureRate: 1 });
    expect(rq.pickupP99Ms).toBeGreaterThanOrEqual(rq.pickupP50Ms!);
    expect(t.series.reduce((n, b) => n + b.failed, 0)).toBeGreaterThanOrEqual(1);
    expect(t.sampled).toBe(false);
    const bucket = t.series.find((b) => b.failed > 0)!;
    expect(bucket.pickupP99Ms).toBeGreaterThanOrEqual(bucket.pickupP50Ms!);
  });

  it('searches jobs by name and time with keyset pages', async () => {
    const since = new Date(Date.now() - 60_000);
    const p1 = await db.jl.inspect.jobs({ queue: 'bulk', name: 'a', createdAfter: since, limit: 2 });
    expect(p1.jobs).toHaveLength(2);
    const p2 = await db.jl.inspect.jobs({ queue: 'bulk', name: 'a', createdAfter: since, limit: 2, cursor: p1.nextCursor });
    expect(p2.jobs).toHaveLength(1);
    expect(p2.nextCursor).toBeUndefined();
    expect((await db.jl.inspect.jobs({ createdBefore: since })).jobs).toHaveLength(0);
  });
});
