/**
 * End to end (issue 15): the jobs of a tenant whose wallet is exhausted stay available — not
 * failed, not lost — while other tenants' jobs run, and run after a top-up.
 *
 * The claim side (claims skip groups with job_groups.held_reason set) is built on branch
 * w15groups; before that merge the "stay available" assertions of this file fail, by design.
 */
import type { JobContext } from '@jobline/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openTestDb, waitFor, type TestDb } from './helpers/db.js';
import { watchClaims } from './helpers/claims.js';

let db: TestDb;
beforeAll(async () => {
  db = await openTestDb();
});
afterAll(() => db.close());

const states = async (group: string) =>
  Object.fromEntries(
    (await db.q(`select state, count(*)::int as n from $S.jobs where group_key = $1 group by state`, [group])).map((r) => [r.state, r.n]),
  ) as Record<string, number>;

/**
 * The exhausted tenant's backlog: far more than the jobs that can start before the hold commits
 * (measured 3 on an idle machine, 11–12 while the whole suite runs in parallel on 2 cores).
 */
const POOR = 60;

describe('quota hold', () => {
  it('an exhausted tenant waits (available) while others run, then runs after a top-up', async () => {
    await db.jl.setQuota('poor', { balance: 2 });
    await db.jl.enqueueMany(Array.from({ length: POOR }, (_, i) => ({ queue: 'tenants', name: 'work', group: 'poor', input: { i } })));
    for (let i = 0; i < 4; i++) await db.jl.enqueue({ queue: 'tenants', name: 'work', group: 'rich', input: { i } });
    const ran: string[] = [];
    const w = db.jl.worker({
      queues: ['tenants'],
      concurrency: 1,
      handlers: { work: async (_input: unknown, ctx: JobContext) => void ran.push(ctx.job.group ?? '') },
      pollIntervalMs: 100,
    } as never);
    const claims = watchClaims(w);
    await w.start();
    try {
      await waitFor(async () => (await states('rich')).completed === 4, 20_000, "the other tenant's jobs to complete");
      await waitFor(async () => (await db.jl.getBalance('poor')).held, 20_000, 'the exhausted tenant to be held');
      // The signal that held jobs were passed over: five more claims came back empty (the worker is
      // idle with jobs of the held tenant available), not a sleep.
      const seen = claims.claimed.length;
      await waitFor(() => claims.claimed.slice(seen).filter((n) => n === 0).length >= 5, 20_000, 'five empty claims after the hold');
      const held = await states('poor');
      // The budget was 2. The hold is written by the completion that exhausts it, and claims made
      // before that commit still start: with concurrency 1 and the batching completer, a few jobs
      // (see POOR) are claimed while the exhausting outcome waits to be written. That pipeline
      // depends on how fast the write is, so the bound asserted is the structural one: the hold
      // stops the backlog — most of the tenant's jobs stay available.
      expect(held.completed ?? 0).toBeGreaterThanOrEqual(2);
      expect(held.completed ?? 0).toBeLessThanOrEqual(POOR / 2);
      expect(held.failed ?? 0).toBe(0);
      expect(held.available ?? 0).toBe(POOR - (held.completed ?? 0));
      expect((await db.jl.getBalance('poor')).balance).toBe(2 - (held.completed ?? 0));

      // Top up enough for the rest: the hold is released and every job completes exactly once.
      const left = held.available ?? 0;
      const after = await db.jl.topUp('poor', left + 1 - (await db.jl.getBalance('poor')).balance);
      expect(after.held).toBe(false);
      await waitFor(async () => (await states('poor')).completed === POOR, 20_000, "the tenant's jobs to run after the top-up");
    } finally {
      await w.stop();
    }
    expect(await states('poor')).toEqual({ completed: POOR });
    const charges = await db.q(`select job_id, attempt from $S.wallet_transactions where wallet_key = 'poor' and kind = 'charge'`);
    expect(charges).toHaveLength(POOR);
    expect((await db.jl.getBalance('poor')).balance).toBe(1);
    const events = (await db.q(`select type from $S.events where type like 'dev.jobline.group.%' order by id`)).map((e) => e.type);
    expect(events.slice(0, 2)).toEqual(['dev.jobline.group.held', 'dev.jobline.group.released']);
  });
});
