import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { NonRetryableError, type Job, type Worker, type WorkerOptions } from '@jobline/core';
import { backoffDelayMs, resolveBackoff } from '@jobline/core/inspect';
import { openTestDb, waitFor, type TestDb } from './helpers/db.js';

let db: TestDb;
let queueSeq = 0;
const workers: Worker[] = [];
beforeAll(async () => {
  db = await openTestDb();
});
afterEach(async () => {
  await Promise.all(workers.splice(0).map((w) => w.stop()));
});
afterAll(() => db.close());

/** A queue of its own per test, so tests in this file never see each other's jobs. */
const q = () => `w${queueSeq++}`;
// Rescue is impossible by construction (staleAfterMs far beyond any test): these tests assert one
// attempt per job, and a heartbeat delayed past a short staleAfterMs would legitimately add one.
const fast: Partial<WorkerOptions> = {
  pollIntervalMs: 50,
  promoteIntervalMs: 20,
  rescueIntervalMs: 50,
  heartbeatIntervalMs: 100,
  staleAfterMs: 600_000,
  leaseTtlMs: 300,
};
function startWorker(o: WorkerOptions) {
  const w = db.jl.worker({ ...fast, ...o });
  workers.push(w);
  return w.start();
}
const job = (id: number) => db.jl.getJob(id);
const finished = (id: number) =>
  waitFor(async () => ['completed', 'failed', 'cancelled'].includes((await job(id)).state) && job(id), 20_000, `job ${id} to finish`);

describe('worker', () => {
  it('claims in priority order (lower first), then oldest run_at, and waits for runAt', async () => {
    const queue = q();
    const now = Date.now();
    const specs = [
      { name: 'p5-old', priority: 5, runAt: new Date(now - 3000) },
      { name: 'p1-new', priority: 1, runAt: new Date(now - 1000) },
      { name: 'p1-old', priority: 1, runAt: new Date(now - 2000) },
      { name: 'p-10', priority: -10 },
      // an hour ahead, then backdated once the others ran (a 1.5 s runAt came due early on a loaded machine)
      { name: 'future', priority: -100, runAt: new Date(now + 3600_000) },
    ];
    const jobs = await db.jl.enqueueMany(specs.map((s) => ({ queue, ...s })));
    const order: string[] = [];
    const handler = async (_: unknown, ctx: { job: Job }) => void order.push(ctx.job.name);
    await startWorker({ queues: [queue], concurrency: 1, handlers: Object.fromEntries(specs.map((s) => [s.name, handler])) });
    await finished(jobs[3].id);
    await waitFor(() => order.length === 4, 20_000, 'the four due jobs');
    expect(order).toEqual(['p-10', 'p1-old', 'p1-new', 'p5-old']);
    // the best priority of all, but not due: it waits
    expect((await job(jobs[4].id)).state).toBe('scheduled');
    await db.sql(`update "${db.schema}".jobs set run_at = now() - interval '1 second' where id = $1`, [jobs[4].id]);
    await finished(jobs[4].id);
    expect(order).toEqual(['p-10', 'p1-old', 'p1-new', 'p5-old', 'future']);
  });

  /**
   * Runs a 400-job backlog, enqueues an urgent job under it once 50 have run, and returns where
   * the urgent job ran (`at`) and how many jobs had started once its enqueue had committed
   * (`before`). Each bulk job takes at least 20 ms, so the backlog after the urgent job lasts at
   * least 35 × 20 ms = 700 ms however loaded the machine is (load only makes it longer).
   */
  async function urgentUnderBacklog(o: Partial<WorkerOptions>): Promise<{ at: number; before: number }> {
    const queue = q();
    await db.jl.enqueueMany(Array.from({ length: 400 }, (_, i) => ({ queue, name: 'bulk', priority: 5, input: { i } })));
    const order: string[] = [];
    const handlers = {
      bulk: async () => {
        order.push('bulk');
        await new Promise((r) => setTimeout(r, 20));
      },
      urgent: async () => void order.push('urgent'),
    };
    // Batches of 10 come back full while the backlog lasts, so every claim but the head scans
    // starts past the last batch.
    await startWorker({ queues: [queue], concurrency: 10, claimBatchSize: 10, ...o, handlers });
    await waitFor(() => order.length >= 50, 20_000, 'the backlog to be under way');
    const [urgent] = await db.jl.enqueueMany([{ queue, name: 'urgent', priority: 0, runAt: new Date(Date.now() - 60_000) }]);
    // Counted after the commit: every claim that starts from here on sees the urgent job.
    const before = order.length;
    await finished(urgent.id);
    return { at: order.indexOf('urgent'), before };
  }

  it('under a backlog, claims past its last batch: an urgent job behind it waits for the next head scan', async () => {
    // No head scan while the backlog lasts: the urgent job sorts before the cursor, so it runs
    // only when a short claim sends the worker back to the head — after the whole backlog.
    expect((await urgentUnderBacklog({ claimRescanMs: 60_000 })).at).toBe(400);
    // A head scan every 150 ms finds it while the backlog (≥ 700 ms of it left) still runs.
    expect((await urgentUnderBacklog({ claimRescanMs: 150 })).at).toBeLessThan(400);
  });

  it('claimRescanMs 0 keeps strict order: an urgent job enqueued under a backlog is in the next claim', async () => {
    const { at, before } = await urgentUnderBacklog({ claimRescanMs: 0, claimsInFlight: 1 });
    // Only jobs claimed before the enqueue committed can start before it: at most the 10 slots
    // (running or reserved by the one claim in flight), plus the 9 others of its own batch.
    expect(at - before).toBeLessThanOrEqual(19);
  });

  it('claims across several queues by priority and skips paused queues', async () => {
    const [qa, qb, qc] = [q(), q(), q()];
    await db.sql(`insert into "${db.schema}".queues (name, paused) values ($1, true)`, [qc]);
    const jobs = await db.jl.enqueueMany([
      { queue: qa, name: 'a', priority: 5 },
      { queue: qb, name: 'b', priority: 1 },
      { queue: qc, name: 'c', priority: -5 },
      { queue: qa, name: 'a2', priority: 0 },
    ]);
    const order: string[] = [];
    const h = async (_: unknown, ctx: { job: Job }) => void order.push(ctx.job.name);
    await startWorker({ queues: [qa, qb, qc], concurrency: 1, handlers: { a: h, b: h, c: h, a2: h } });
    await finished(jobs[0].id);
    expect(order).toEqual(['a2', 'b', 'a']);
    expect((await job(jobs[2].id)).state).toBe('available'); // paused
    await db.sql(`update "${db.schema}".queues set paused = false where name = $1`, [qc]);
    await finished(jobs[2].id);
    expect(order).toEqual(['a2', 'b', 'a', 'c']);
  });

  it('records one history row per attempt and retries with backoff until it succeeds', async () => {
    const queue = q();
    const { id } = await db.jl.enqueue({ queue, name: 'flaky', maxAttempts: 4 });
    let calls = 0;
    await startWorker({
      queues: [queue],
      backoff: { baseMs: 100, maxMs: 1000, jitter: 0 },
      handlers: {
        flaky: async () => {
          if (++calls < 3) throw Object.assign(new Error(`boom ${calls}`), { code: 'E_FLAKY' });
          return { calls };
        },
      },
    });
    const done = await finished(id);
    expect(done).toMatchObject({ state: 'completed', attempt: 3, output: { calls: 3 } });
    const ex = await db.jl.executions(id);
    expect(ex.map((e) => [e.attempt, e.state])).toEqual([
      [1, 'failed'],
      [2, 'failed'],
      [3, 'completed'],
    ]);
    expect(ex[0].error).toMatchObject({ message: 'boom 1', name: 'Error', code: 'E_FLAKY' });
    expect(ex[0].error!.stack).toMatch(/boom 1/);
    // backoff: attempt 2 started ≥ 100 ms after attempt 1 finished, attempt 3 ≥ 200 ms after attempt 2
    expect(ex[1].startedAt!.getTime() - ex[0].finishedAt.getTime()).toBeGreaterThanOrEqual(95);
    expect(ex[2].startedAt!.getTime() - ex[1].finishedAt.getTime()).toBeGreaterThanOrEqual(195);
    for (const e of ex) expect(e.durationMs).toBeGreaterThanOrEqual(0);
  });

  it('computes exponential backoff with jitter inside its bounds', () => {
    const b = resolveBackoff({ baseMs: 1000, maxMs: 10_000, jitter: 0.5 });
    expect(backoffDelayMs(1, b, () => 0)).toBe(1000);
    expect(backoffDelayMs(1, b, () => 1)).toBe(500);
    expect(backoffDelayMs(3, b, () => 0)).toBe(4000);
    expect(backoffDelayMs(10, b, () => 0)).toBe(10_000);
    for (let i = 0; i < 100; i++) {
      const d = backoffDelayMs(4, b);
      expect(d).toBeGreaterThanOrEqual(4000);
      expect(d).toBeLessThanOrEqual(8000);
    }
  });

  it('fails for good after maxAttempts, and at once for a non-retryable error', async () => {
    const queue = q();
    const a = await db.jl.enqueue({ queue, name: 'always', maxAttempts: 2 });
    const b = await db.jl.enqueue({ queue, name: 'fatal', maxAttempts: 5 });
    await startWorker({
      queues: [queue],
      backoff: { baseMs: 10, maxMs: 10 },
      handlers: {
        always: async () => {
          throw new Error('nope');
        },
        fatal: async () => {
          throw new NonRetryableError('bad input, retrying will not help');
        },
      },
    });
    expect(await finished(a.id)).toMatchObject({ state: 'failed', attempt: 2, error: { message: 'nope' } });
    expect(await finished(b.id)).toMatchObject({
      state: 'failed',
      attempt: 1,
      error: { message: 'bad input, retrying will not help', retryable: false },
    });
    expect((await db.jl.executions(a.id)).map((e) => e.state)).toEqual(['failed', 'failed']);
  });

  it('fires the signal at timeoutMs and abandons a handler that ignores it at the hard deadline', async () => {
    const queue = q();
    const polite = await db.jl.enqueue({ queue, name: 'polite', timeoutMs: 100, maxAttempts: 1 });
    const rude = await db.jl.enqueue({ queue, name: 'rude', timeoutMs: 100, maxAttempts: 1 });
    let sawAbort = false;
    await startWorker({
      queues: [queue],
      timeoutGraceMs: 200,
      handlers: {
        polite: (_: unknown, ctx) =>
          new Promise((_, reject) => ctx.signal.addEventListener('abort', () => ((sawAbort = true), reject(ctx.signal.reason)))),
        rude: () => new Promise(() => {}), // never settles, ignores the signal
      },
    });
    const p = await finished(polite.id);
    const r = await finished(rude.id);
    expect(sawAbort).toBe(true);
    expect(p).toMatchObject({ state: 'failed', error: { name: 'TimeoutError', code: 'TIMEOUT' } });
    expect(r).toMatchObject({ state: 'failed', error: { name: 'TimeoutError' } });
    const [ex] = await db.jl.executions(rude.id);
    expect(ex.state).toBe('timed_out');
    expect(ex.durationMs).toBeGreaterThanOrEqual(295);
  });

  it('heartbeats extend a long handler beyond timeoutMs', async () => {
    const queue = q();
    // Heartbeats 20 ms apart against a 1 s timeout (a 50× margin for a loaded machine); the
    // handler keeps going until it has run for more than twice its timeoutMs.
    const timeoutMs = 1000;
    const { id } = await db.jl.enqueue({ queue, name: 'long', timeoutMs, maxAttempts: 1 });
    let ranMs = 0;
    await startWorker({
      queues: [queue],
      timeoutGraceMs: 50,
      handlers: {
        long: async (_: unknown, ctx) => {
          const t0 = performance.now();
          for (let i = 0; (ranMs = performance.now() - t0) <= 2 * timeoutMs; i++) {
            await new Promise((r) => setTimeout(r, 20));
            expect(await ctx.heartbeat()).toBe(true);
            await ctx.progress(i % 100);
          }
          return 'done';
        },
      },
    });
    expect(await finished(id)).toMatchObject({ state: 'completed', output: 'done' });
    expect(ranMs).toBeGreaterThan(2 * timeoutMs); // it did outlive its timeout
  });

  it('cancels waiting jobs, and aborts a running one whose late result is ignored', async () => {
    const queue = q();
    const later = await db.jl.enqueue({ queue, name: 'x', runAt: new Date(Date.now() + 60_000) });
    expect(await db.jl.cancel(later.id)).toMatchObject({ state: 'cancelled' });
    await expect(db.jl.cancel(later.id)).rejects.toMatchObject({ code: 'CONFLICT' });
    await expect(db.jl.cancel(987654321)).rejects.toMatchObject({ code: 'NOT_FOUND' });

    const running = await db.jl.enqueue({ queue, name: 'slow' });
    let aborted = false;
    let started = false;
    const w = await startWorker({
      queues: [queue],
      handlers: {
        slow: async (_: unknown, ctx) => {
          started = true;
          await new Promise((r) => ctx.signal.addEventListener('abort', r));
          aborted = true;
          return 'finished anyway';
        },
      },
    });
    await waitFor(() => started, 10_000, 'handler start');
    await db.jl.cancel(running.id);
    await waitFor(() => aborted, 10_000, 'abort');
    await waitFor(() => w.inFlight === 0);
    const j = await job(running.id);
    expect(j.state).toBe('cancelled');
    expect(j.output).toBeUndefined();
    expect((await db.jl.executions(running.id)).map((e) => e.state)).toEqual(['cancelled']);
  });

  it('stop() lets running jobs finish within the grace period and releases the rest for another worker', async () => {
    const queue = q();
    const quick = await db.jl.enqueue({ queue, name: 'quick' });
    const stuck = await db.jl.enqueue({ queue, name: 'stuck' });
    let quickStarted = false;
    let stuckStarted = false;
    // `quick` finishes once stop() has begun (a signal, not a sleep), well inside the grace period.
    let stopBegan!: () => void;
    const stopping = new Promise<void>((r) => (stopBegan = r));
    const w = db.jl.worker({
      ...fast,
      queues: [queue],
      concurrency: 2,
      shutdownGraceMs: 2000,
      handlers: {
        quick: async () => {
          quickStarted = true;
          await stopping;
          return 'ok';
        },
        stuck: async (_: unknown, ctx) => {
          stuckStarted = true;
          await new Promise((r) => ctx.signal.addEventListener('abort', r));
          return 'aborted';
        },
      },
    });
    await w.start();
    await waitFor(() => quickStarted && stuckStarted, 10_000, 'both started');
    const stopped = w.stop();
    stopBegan();
    await stopped;
    expect(w.stats.released).toBe(1);
    expect((await job(quick.id)).state).toBe('completed');
    const released = await job(stuck.id);
    expect(released).toMatchObject({ state: 'available', attempt: 1, maxAttempts: 6 });
    expect((await db.jl.executions(stuck.id)).map((e) => e.state)).toEqual(['released']);
    // another worker takes it at once
    await startWorker({ queues: [queue], handlers: { stuck: async () => 'second try' } });
    expect(await finished(stuck.id)).toMatchObject({ state: 'completed', attempt: 2, output: 'second try' });
    const workerRow = await db.sql(`select stopped_at from "${db.schema}".workers where id = $1`, [w.id]);
    expect(workerRow[0].stopped_at).toBeInstanceOf(Date);
  });

  it('fails a job whose output cannot be stored, without retrying', async () => {
    const queue = q();
    const { id } = await db.jl.enqueue({ queue, name: 'bad-output' });
    await startWorker({ queues: [queue], handlers: { 'bad-output': async () => ({ n: 1n }) } });
    expect(await finished(id)).toMatchObject({
      state: 'failed',
      attempt: 1,
      error: { message: expect.stringMatching(/output: is not JSON-serialisable/) },
    });
  });

  it('lists jobs newest first with keyset pagination', async () => {
    const queue = q();
    const jobs = await db.jl.enqueueMany(Array.from({ length: 5 }, (_, i) => ({ queue, name: `n${i}` })));
    const p1 = await db.jl.listJobs({ queue, limit: 2 });
    expect(p1.jobs.map((j) => j.id)).toEqual([jobs[4].id, jobs[3].id]);
    const p2 = await db.jl.listJobs({ queue, limit: 2, cursor: p1.nextCursor });
    expect(p2.jobs.map((j) => j.id)).toEqual([jobs[2].id, jobs[1].id]);
    const p3 = await db.jl.listJobs({ queue, limit: 2, cursor: p2.nextCursor });
    expect(p3.jobs.map((j) => j.id)).toEqual([jobs[0].id]);
    expect(p3.nextCursor).toBeUndefined();
    expect((await db.jl.listJobs({ queue, state: 'completed' })).jobs).toEqual([]);
    await expect(db.jl.listJobs({ queue, cursor: 'not-a-cursor' })).rejects.toMatchObject({ code: 'VALIDATION' });
  });
});
