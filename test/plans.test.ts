/**
 * Query-plan regressions (no timings): the completion statement must never reach jobs through
 * the partial running index, even when statistics say nothing is running — the state right after ANALYZE on an
 * idle queue. It once joined through the partial `jobs_running_idx` instead, scanning every dead
 * entry per row: 1,089 ms per batch of 500 instead of 10 ms.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { makeCompleter } from '../packages/core/dist/queue/complete.js';
import { makeClaimer } from '../packages/core/dist/queue/claim.js';
import { openTestDb, type TestDb } from './helpers/db.js';
import { internals } from '@jobline/core/internal';

let db: TestDb;
beforeAll(async () => {
  db = await openTestDb();
});
afterAll(() => db.close());

/** Captures the SQL a statement factory sends, then EXPLAINs it with real values. */
async function plan(
  run: (q: { query: (c: { text: string; values: unknown[] }) => Promise<{ rows: never[] }> }) => Promise<unknown>,
): Promise<string> {
  let captured!: { text: string; values: unknown[] };
  await run({ query: async (c) => ((captured = c), { rows: [] }) });
  const client = await internals(db.jl).pool.connect();
  try {
    await client.query('begin');
    const { rows } = await client.query({ text: `explain ${captured.text}`, values: captured.values });
    return rows.map((r) => r['QUERY PLAN']).join('\n');
  } finally {
    await client.query('rollback');
    client.release();
  }
}

it('completion and claim use the primary key and the claim index after ANALYZE of an idle table', async () => {
  const S = `"${db.schema}"`;
  const jobs = await db.jl.enqueueMany(Array.from({ length: 5000 }, () => ({ queue: 'plan', name: 'x' })));
  await db.sql(`update ${S}.jobs set state = 'completed', attempt = 1 where id <= $1`, [jobs[2500].id]);
  await db.sql(`analyze ${S}.jobs`);
  const batch = jobs.slice(3000, 3500).map((j) => ({
    jobId: j.id,
    attempt: 1,
    nextState: 'completed' as const,
    executionState: 'completed' as const,
    outputJson: null,
    errorJson: null,
    retryDelayMs: null,
    durationMs: 1,
    inDag: false,
  }));
  const completePlan = await plan((q) => makeCompleter(db.schema)(q as never, batch));
  // Small tables get a hash join over a sequential scan (cheaper there; from ~70k rows on the
  // planner switches to the primary key). What must never appear is the running index.
  expect(completePlan).toMatch(/Index Scan using jobs_pkey on jobs j|Seq Scan on jobs j/);
  expect(completePlan).not.toMatch(/jobs_running_idx/);
  const claimPlan = await plan((q) => makeClaimer(db.schema)(q as never, ['plan'], 500, 'w'));
  expect(claimPlan).toMatch(/jobs_claim_idx/);
  // The candidate scan never reads the table sequentially (the update's join may, on small tables).
  expect(claimPlan).not.toMatch(/Seq Scan on jobs\s+\(cost/);
  // The cursor claim seeks the index past the cursor (the row comparison is an index condition),
  // so entries before it — dead ones kept by an old snapshot included — are never walked.
  const after = { priority: 0, runAt: jobs[3000].runAt, id: jobs[3000].id };
  const afterPlan = await plan((q) => makeClaimer(db.schema)(q as never, ['plan'], 500, 'w', [], after));
  expect(afterPlan).toMatch(/Index Scan using jobs_claim_idx[\s\S]*Index Cond: .*ROW\(priority, run_at, id\) > ROW/);
  const multiPlan = await plan((q) => makeClaimer(db.schema)(q as never, ['plan', 'other'], 500, 'w'));
  expect(multiPlan).toMatch(/jobs_claim_idx/);
  expect(multiPlan).not.toMatch(/Seq Scan on jobs\s+\(cost/);
  // A worker that cannot run every executor kind (while such definitions exist) filters its
  // claims by the job's definition: still the claim index in order, definitions by primary key.
  await db.jl.createDefinition({ name: 'plan-c', executor: 'container', image: 'localhost/x:1' });
  const filter = { kinds: ['handler', 'process'], cpu: 2 };
  for (const p of [
    await plan((q) => makeClaimer(db.schema)(q as never, ['plan'], 500, 'w', [], undefined, filter)),
    await plan((q) => makeClaimer(db.schema)(q as never, ['plan'], 500, 'w', [], after, filter)),
    await plan((q) => makeClaimer(db.schema)(q as never, ['plan', 'other'], 500, 'w', [], undefined, filter)),
  ]) {
    expect(p).toMatch(/jobs_claim_idx/);
    expect(p).not.toMatch(/Seq Scan on jobs\s+\(cost/);
  }
});
