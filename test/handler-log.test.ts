/**
 * The fault scenarios' handler-side log check (test/faults/handler-log.ts) given known-bad logs:
 * each verdict must catch what it names, so a green scenario means something.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { openTestDb, type TestDb } from './helpers/db.js';
import { checkHandlerLog, type HandlerLogEntry } from './faults/handler-log.js';
import { internals } from '@jobline/core/internal';

let db: TestDb;
let ids: number[];
beforeAll(async () => {
  db = await openTestDb();
  ids = (await db.jl.enqueueMany([1, 2, 3].map((i) => ({ queue: 'hl', name: 'x', input: { i } })))).map((j) => j.id);
  // As Jobline would leave them: all three completed, job 0 and 1 on attempt 1, job 2 on attempt 2.
  await db.q(
    `update $S.jobs set state = 'completed', attempt = case when id = $2 then 2 else 1 end, completed_at = now() where id = any($1)`,
    [ids, ids[2]],
  );
});
afterAll(() => db.close());

const run = (job: number, attempt: number, pid: number, start: number, end?: number): HandlerLogEntry[] => [
  { job, attempt, pid, what: 'start', t: start },
  ...(end === undefined ? [] : [{ job, attempt, pid, what: 'end' as const, t: end }]),
];

it('a log that backs every completion passes', async () => {
  const log = [...run(ids[0], 1, 10, 0, 5), ...run(ids[1], 1, 10, 0, 5), ...run(ids[2], 1, 11, 0), ...run(ids[2], 2, 12, 10, 15)];
  const v = await checkHandlerLog(internals(db.jl).pool, db.schema, ids, log);
  expect(v).toMatchObject({ missing: [], unbacked: [], overlapping: [], runsStarted: 4, runsFinished: 3, finishedMoreThanOnce: 0 });
});

it('a job whose handler never finished is missing, and its completion unbacked', async () => {
  const log = [...run(ids[0], 1, 10, 0, 5), ...run(ids[1], 1, 10, 0) /* killed */, ...run(ids[2], 2, 12, 10, 15)];
  const v = await checkHandlerLog(internals(db.jl).pool, db.schema, ids, log);
  expect(v.missing).toEqual([ids[1]]);
  expect(v.unbacked).toEqual([ids[1]]);
});

it('a completion recorded for an attempt whose handler did not finish is unbacked', async () => {
  // job 2 completed as attempt 2 per Jobline, but only attempt 1 ran to its end
  const log = [...run(ids[0], 1, 10, 0, 5), ...run(ids[1], 1, 10, 0, 5), ...run(ids[2], 1, 11, 0, 5), ...run(ids[2], 2, 12, 10)];
  const v = await checkHandlerLog(internals(db.jl).pool, db.schema, ids, log);
  expect(v.missing).toEqual([]);
  expect(v.unbacked).toEqual([ids[2]]);
});

it('two finished runs of one job that overlap are reported; a job run twice is counted', async () => {
  const log = [...run(ids[0], 1, 10, 0, 5), ...run(ids[1], 1, 10, 0, 5), ...run(ids[2], 1, 11, 0, 12), ...run(ids[2], 2, 12, 10, 15)];
  const v = await checkHandlerLog(internals(db.jl).pool, db.schema, ids, log);
  expect(v.overlapping).toEqual([ids[2]]);
  expect(v.finishedMoreThanOnce).toBe(1);
  expect(v.unbacked).toEqual([]);
});
