/**
 * Issue 13 item 6: the fault checker (test/faults/checker.ts) is itself tested with known-bad
 * histories written straight into the tables — a lost job, a duplicated completion, two
 * overlapping attempts, an acknowledged id without a row, and event streams with a missing, a
 * duplicated, an unknown and an out-of-order event. A checker that always reported zero (or
 * always "completed once") fails every case here; a clean history must come out clean.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openTestDb, type TestDb } from './helpers/db.js';
import { checkEvents, checkJobs } from './faults/checker.js';
import { internals } from '@jobline/core/internal';

let db: TestDb;
beforeAll(async () => {
  db = await openTestDb();
});
afterAll(async () => {
  await db?.close();
});

/** Enqueues `n` jobs and returns their ids. */
async function jobs(n: number, queue: string): Promise<number[]> {
  return (await db.jl.enqueueMany(Array.from({ length: n }, (_, i) => ({ queue, name: 'noop', input: { i } })))).map((j) => j.id);
}

/** Records attempt `attempt` of job `id` as `state`, running from `from` to `to` seconds ago. */
async function attempt(id: number, attemptNo: number, state: string, from: number, to: number): Promise<void> {
  await db.sql(
    `insert into "${db.schema}".job_executions (job_id, attempt, worker_id, state, started_at, finished_at, duration_ms)
     values ($1, $2, 'w-test', $3, now() - make_interval(secs => $4), now() - make_interval(secs => $5), ($4 - $5) * 1000)`,
    [id, attemptNo, state, from, to],
  );
}

async function finish(id: number, state: string, attemptNo: number): Promise<void> {
  await db.sql(`update "${db.schema}".jobs set state = $2, attempt = $3, completed_at = now() where id = $1`, [id, state, attemptNo]);
}

describe('checkJobs on known histories', () => {
  it('a clean history: every job completed once, one failed for good, one cancelled, one rescued then completed', async () => {
    const ids = await jobs(6, 'clean');
    for (const id of ids.slice(0, 3)) {
      await attempt(id, 1, 'completed', 10, 9);
      await finish(id, 'completed', 1);
    }
    await attempt(ids[3], 1, 'failed', 10, 9);
    await finish(ids[3], 'failed', 1);
    await finish(ids[4], 'cancelled', 0);
    await attempt(ids[5], 1, 'lost', 20, 15);
    await attempt(ids[5], 2, 'completed', 14, 13);
    await finish(ids[5], 'completed', 2);
    const v = await checkJobs(internals(db.jl).pool, db.schema, ids);
    expect(v).toMatchObject({
      jobs: 6,
      completedOnce: 4,
      failedForGood: 1,
      cancelled: 1,
      lost: 0,
      duplicated: 0,
      missingRows: 0,
      rescuedAttempts: 1,
    });
  });

  it('a lost job (left running, never finished) and one never claimed are counted lost, by id', async () => {
    const ids = await jobs(3, 'lost');
    await attempt(ids[0], 1, 'completed', 10, 9);
    await finish(ids[0], 'completed', 1);
    await db.sql(`update "${db.schema}".jobs set state = 'running', attempt = 1 where id = $1`, [ids[1]]);
    const v = await checkJobs(internals(db.jl).pool, db.schema, ids);
    expect(v.lost).toBe(2);
    expect(v.lostIds.sort()).toEqual([ids[1], ids[2]].sort());
    expect(v.completedOnce).toBe(1);
  });

  it('a duplicated completion (two completed attempts of one job) is counted duplicated, not completed', async () => {
    const ids = await jobs(2, 'dup');
    await attempt(ids[0], 1, 'completed', 10, 9);
    await attempt(ids[0], 2, 'completed', 8, 7);
    await finish(ids[0], 'completed', 2);
    await attempt(ids[1], 1, 'completed', 10, 9);
    await finish(ids[1], 'completed', 1);
    const v = await checkJobs(internals(db.jl).pool, db.schema, ids);
    expect(v.duplicated).toBe(1);
    expect(v.duplicatedIds).toEqual([ids[0]]);
    expect(v.completedOnce).toBe(1);
  });

  it('two attempts whose running intervals overlap (a zombie ran beside its rescuer) are a duplicate even with one completion', async () => {
    const [id] = await jobs(1, 'overlap');
    await attempt(id, 1, 'lost', 10, 5);
    await attempt(id, 2, 'completed', 8, 7);
    await finish(id, 'completed', 2);
    const v = await checkJobs(internals(db.jl).pool, db.schema, [id]);
    expect(v.duplicated).toBe(1);
    expect(v.completedOnce).toBe(0);
  });

  it('an acknowledged id with no row is a missing row', async () => {
    const ids = await jobs(1, 'missing');
    const v = await checkJobs(internals(db.jl).pool, db.schema, [...ids, 987_654_321]);
    expect(v.missingRows).toBe(1);
    expect(v.jobs).toBe(2);
  });
});

describe('checkEvents on known streams', () => {
  const written = [
    { id: 1, jobId: 10 },
    { id: 2, jobId: 11 },
    { id: 3, jobId: 10 },
    { id: 4, jobId: 11 },
    { id: 5, jobId: null },
  ];

  it('a clean stream is clean', () => {
    expect(
      checkEvents(written, [{ id: 1, jobId: 10 }, { id: 2, jobId: 11 }, { id: 3, jobId: 10 }, { id: 4, jobId: 11 }, { id: 5 }]),
    ).toEqual({
      written: 5,
      delivered: 5,
      missing: 0,
      duplicated: 0,
      unknown: 0,
      outOfOrder: 0,
    });
  });

  it('an out-of-order event (a job’s later event before its earlier one) is counted per job', () => {
    const v = checkEvents(written, [{ id: 3, jobId: 10 }, { id: 1, jobId: 10 }, { id: 2, jobId: 11 }, { id: 4, jobId: 11 }, { id: 5 }]);
    expect(v.outOfOrder).toBe(1);
    expect(v.missing + v.duplicated + v.unknown).toBe(0);
  });

  it('a missing, a duplicated and an unknown event are each counted', () => {
    const v = checkEvents(written, [
      { id: 1, jobId: 10 },
      { id: 1, jobId: 10 },
      { id: 2, jobId: 11 },
      { id: 3, jobId: 10 },
      { id: 99, jobId: 12 },
      { id: 5 },
    ]);
    expect(v).toMatchObject({ missing: 1, duplicated: 1, unknown: 1, outOfOrder: 0, delivered: 6 });
  });
});
