import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Worker } from '@jobline/core';
import { withTransaction } from '@jobline/core/admin';
import { openTestDb, waitFor, type TestDb } from './helpers/db.js';
import { internals } from '@jobline/core/internal';

let db: TestDb;
beforeAll(async () => {
  db = await openTestDb();
});
afterAll(() => db.close());

const S = () => `"${db.schema}"`;

describe('fencing and rescue', () => {
  it('rejects and counts a late completion from a worker that lost its job; the newer attempt wins', async () => {
    const queue = 'fence';
    const { id } = await db.jl.enqueue({ queue, name: 'slow', maxAttempts: 3 });
    let releaseFirst!: () => void;
    const firstMayFinish = new Promise<void>((r) => (releaseFirst = r));
    let calls = 0;
    const zombie: Worker = db.jl.worker({
      queues: [queue],
      // One slot, held by the stuck first attempt: the zombie cannot re-claim the rescued job.
      concurrency: 1,
      maintenance: false,
      heartbeatIntervalMs: 60_000, // this worker will look dead
      staleAfterMs: 120_000,
      handlers: {
        slow: async () => {
          calls++;
          await firstMayFinish;
          return 'from the zombie';
        },
      },
    });
    await zombie.start();
    await waitFor(() => calls === 1, 10_000, 'first attempt to start');
    // The zombie's heartbeat goes stale: backdate it instead of waiting.
    await db.sql(`update ${S()}.workers set heartbeat_at = now() - interval '1 hour' where id = $1`, [zombie.id]);
    const rescuer = db.jl.worker({
      queues: [queue],
      rescueIntervalMs: 50,
      promoteIntervalMs: 20,
      leaseTtlMs: 300,
      pollIntervalMs: 50,
      handlers: { slow: async () => 'from the rescuer' },
    });
    await rescuer.start();
    await waitFor(async () => (await db.jl.getJob(id)).state === 'completed', 15_000, 'rescued attempt to complete');
    releaseFirst();
    await waitFor(() => zombie.stats.rejected === 1, 10_000, 'late completion to be rejected');
    await zombie.stop();
    await rescuer.stop();
    const job = await db.jl.getJob(id);
    expect(job).toMatchObject({ state: 'completed', attempt: 2, output: 'from the rescuer' });
    const ex = await db.jl.executions(id);
    expect(ex.map((e) => [e.attempt, e.state, e.workerId])).toEqual([
      [1, 'lost', zombie.id],
      [2, 'completed', rescuer.id],
    ]);
    expect(ex[0].error).toMatchObject({ code: 'WORKER_LOST' });
    expect(zombie.stats.completed).toBe(1); // it believed it completed…
    expect(zombie.stats.rejected).toBe(1); // …and the fence refused it
  });

  it('rescues a dead worker’s jobs to retryable, or failed when out of attempts, with the reason in history', async () => {
    const queue = 'rescue';
    const [a, b] = await db.jl.enqueueMany([
      { queue, name: 'x', maxAttempts: 3 },
      { queue, name: 'y', maxAttempts: 1 },
    ]);
    // Simulate a worker that claimed both and died: a stale worker row and running jobs.
    await db.sql(
      `insert into ${S()}.workers (id, hostname, pid, queues, concurrency, version, heartbeat_at)
       values ('dead-1', 'h', 1, '{rescue}', 1, 'test', now() - interval '1 minute')`,
    );
    await db.sql(
      `update ${S()}.jobs set state = 'running', attempt = 1, worker_id = 'dead-1', started_at = now(), claimed_at = now() where id = any($1)`,
      [[a.id, b.id]],
    );
    const w = db.jl.worker({ queues: ['elsewhere'], rescueIntervalMs: 50, leaseTtlMs: 300 });
    await w.start();
    await waitFor(async () => (await db.jl.getJob(b.id)).state === 'failed', 10_000, 'rescue');
    await w.stop();
    const ja = await db.jl.getJob(a.id);
    expect(['retryable', 'available']).toContain(ja.state);
    expect(ja.error).toMatchObject({ name: 'WorkerLost' });
    expect((await db.jl.executions(b.id))[0]).toMatchObject({ attempt: 1, state: 'lost', workerId: 'dead-1' });
    const events = await db.sql(`select type from ${S()}.events where job_id = $1 order by id`, [b.id]);
    expect(events.map((e) => e.type)).toEqual(['dev.jobline.job.enqueued', 'dev.jobline.job.rescued']);
  });

  it('gives the maintenance lease to one holder at a time and hands it over when released', async () => {
    const ws = Array.from({ length: 3 }, () => db.jl.worker({ queues: ['lease'], leaseTtlMs: 300 }));
    await Promise.all(ws.map((w) => w.start()));
    const holder = async () =>
      (await db.sql(`select holder from ${S()}.leases where name = 'maintenance' and expires_at > now()`))[0]?.holder;
    const first = await waitFor(holder, 5000, 'a leader');
    expect(ws.map((w) => w.id)).toContain(first);
    const leader = ws.find((w) => w.id === first)!;
    await leader.stop();
    const second = await waitFor(
      async () => {
        const h = await holder();
        return h && h !== first ? h : undefined;
      },
      5000,
      'a new leader',
    );
    expect(ws.map((w) => w.id)).toContain(second);
    await Promise.all(ws.map((w) => w.stop()));
  });

  it('a heartbeat of a rescued attempt reports it lost and aborts the signal', async () => {
    const queue = 'hb';
    const { id } = await db.jl.enqueue({ queue, name: 'long' });
    let result: boolean | undefined;
    let aborted = false;
    let started = false;
    let taken!: () => void;
    const takenAway = new Promise<void>((r) => (taken = r));
    const w = db.jl.worker({
      queues: [queue],
      maintenance: false,
      handlers: {
        long: async (_: unknown, ctx) => {
          started = true;
          await takenAway;
          result = await ctx.heartbeat();
          aborted = ctx.signal.aborted;
          return 'late';
        },
      },
    });
    await w.start();
    await waitFor(() => started);
    // The rescuer (simulated by hand, in a transaction) took the attempt away meanwhile.
    await withTransaction(internals(db.jl).pool, (tx) => tx.query(`update ${S()}.jobs set state = 'retryable' where id = $1`, [id]));
    taken();
    await waitFor(() => result !== undefined);
    expect(result).toBe(false);
    expect(aborted).toBe(true);
    await w.stop();
  });
});
