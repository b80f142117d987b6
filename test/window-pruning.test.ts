/**
 * Housekeeping of issue 15's window tables: the maintenance leader deletes rate windows whose
 * newest start is older than their period and throttle/debounce windows no enqueue reads any more,
 * and the limits they implement still hold afterwards. Time is moved by backdating rows.
 */
import { internals } from '@jobline/core/internal';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pruneEnqueueWindows, pruneRateWindows } from '../packages/core/dist/queue/maintenance-sql.js';
import { openTestDb, waitFor, type TestDb } from './helpers/db.js';

let db: TestDb;
let s: string;
beforeAll(async () => {
  db = await openTestDb();
  s = `"${db.schema}"`;
});
afterAll(() => db.close());

const windows = async (queue: string) =>
  (await db.q(`select group_key from $S.rate_windows where queue = $1 order by group_key`, [queue])).map((r) => r.group_key);
const completed = async (ids: number[]) =>
  (await db.q(`select count(*)::int as n from $S.jobs where id = any($1) and state = 'completed'`, [ids]))[0].n as number;
const drain = async (queue: string, ids: number[]) => {
  const w = db.jl.worker({ queues: [queue], concurrency: 10, pollIntervalMs: 50, handlers: { x: async () => null } });
  await w.start();
  try {
    await waitFor(async () => (await completed(ids)) === ids.length, 15_000, `jobs of ${queue}`);
  } finally {
    await w.stop();
  }
};

describe('rate windows', () => {
  it('rows whose newest start is older than the period are pruned, fresher ones stay; the limit holds after', async () => {
    await db.jl.updateQueue('rw', { rateLimit: { limit: 100, periodMs: 1000 }, groupRateLimit: { limit: 2, periodMs: 400 } });
    const first = await db.jl.enqueueMany(['a', 'b'].map((group) => ({ queue: 'rw', name: 'x', group })));
    await drain(
      'rw',
      first.map((j) => j.id),
    );
    expect(await windows('rw')).toEqual(['', 'a', 'b']);
    // A start inside its window keeps a row.
    await db.q(`update $S.rate_windows set starts = array[now()] where queue = 'rw'`);
    const pool = internals(db.jl).pool;
    expect(await pruneRateWindows(pool, s)).toBe(0);
    expect(await windows('rw')).toEqual(['', 'a', 'b']);
    // a: one old start and one fresh one (kept); b and the queue row: only old starts (pruned).
    await db.q(
      `update $S.rate_windows set starts = array[now() - interval '10 s', now()] where queue = 'rw' and group_key = 'a';
       update $S.rate_windows set starts = array[now() - interval '10 s'] where queue = 'rw' and group_key <> 'a'`,
    );
    await db.q(`update $S.rate_windows set starts = array[now() - interval '2 s'] where queue = 'rw' and group_key = ''`);
    // A queue whose limit was removed: its rows are read by no claim.
    await db.q(`insert into $S.rate_windows (queue, group_key, starts) values ('gone', '', array[now()]), ('gone', 'z', array[now()])`);
    expect(await pruneRateWindows(pool, s)).toBe(4);
    expect(await windows('rw')).toEqual(['a']);
    expect(await windows('gone')).toEqual([]);

    // The limit holds across the pruning: 2 starts of group b per 400 ms, rows written again.
    const more = await db.jl.enqueueMany(Array.from({ length: 6 }, () => ({ queue: 'rw', name: 'x', group: 'b' })));
    const ids = more.map((j) => j.id);
    await drain('rw', ids);
    const starts = (
      await db.q(`select extract(epoch from started_at) * 1000 as t from $S.job_executions where job_id = any($1) order by started_at`, [
        ids,
      ])
    ).map((r) => Number(r.t));
    expect(starts).toHaveLength(6);
    for (let i = 2; i < starts.length; i++) expect(starts[i]! - starts[i - 2]!).toBeGreaterThanOrEqual(400);
    expect(await windows('rw')).toEqual(['', 'a', 'b']);
  });
});

describe('enqueue windows', () => {
  const rows = async () =>
    (await db.q(`select kind, key from $S.enqueue_windows where queue = 'ew' order by kind, key`)).map((r) => `${r.kind}:${r.key}`);
  const backdate = (kind: string, key: string) =>
    db.q(`update $S.enqueue_windows set ends_at = now() - interval '1 s' where queue = 'ew' and kind = $1 and key = $2`, [kind, key]);

  it('ended throttle windows and ended debounce windows whose job started are pruned; the policies hold after', async () => {
    const pool = internals(db.jl).pool;
    const t1 = await db.jl.enqueue({ queue: 'ew', name: 'x', throttle: { key: 'open', periodMs: 60_000 } });
    await db.jl.enqueue({ queue: 'ew', name: 'x', throttle: { key: 'ended', periodMs: 60_000 } });
    const d1 = await db.jl.enqueue({ queue: 'ew', name: 'x', debounce: { key: 'pending', periodMs: 60_000 } });
    const d2 = await db.jl.enqueue({ queue: 'ew', name: 'x', debounce: { key: 'started', periodMs: 60_000 } });
    await backdate('throttle', 'ended');
    await backdate('debounce', 'pending');
    await backdate('debounce', 'started');
    await db.q(`update $S.jobs set state = 'completed', attempt = 1, completed_at = now() where id = $1`, [d2.id]);
    expect(await pruneEnqueueWindows(pool, s)).toBe(2);
    // The open throttle window and the ended debounce window whose job has not started stay.
    expect(await rows()).toEqual(['debounce:pending', 'throttle:open']);

    // Throttle still answers with the window's job; after the pruned one, a new window opens once.
    const again = await db.jl.enqueue({ queue: 'ew', name: 'x', throttle: { key: 'open', periodMs: 60_000 } });
    expect(again).toMatchObject({ id: t1.id });
    const n1 = await db.jl.enqueue({ queue: 'ew', name: 'x', throttle: { key: 'ended', periodMs: 60_000 } });
    const n2 = await db.jl.enqueue({ queue: 'ew', name: 'x', throttle: { key: 'ended', periodMs: 60_000 } });
    expect(n2.id).toBe(n1.id);
    // The pending debounced job is still replaced (its window was kept); the started one's key creates a new job.
    const r = await db.jl.enqueue({ queue: 'ew', name: 'x', input: { v: 2 }, debounce: { key: 'pending', periodMs: 60_000 } });
    expect(r).toMatchObject({ id: d1.id, input: { v: 2 } });
    const fresh = await db.jl.enqueue({ queue: 'ew', name: 'x', debounce: { key: 'started', periodMs: 60_000 } });
    expect(fresh.id).not.toBe(d2.id);
    expect(await rows()).toEqual(['debounce:pending', 'debounce:started', 'throttle:ended', 'throttle:open']);
  });

  it("the maintenance leader's retention pass prunes both tables", async () => {
    await db.jl.enqueue({ queue: 'ew', name: 'x', throttle: { key: 'lead', periodMs: 60_000 } });
    await backdate('throttle', 'lead');
    await db.q(`insert into $S.rate_windows (queue, group_key, starts) values ('lead-q', '', array[now() - interval '1 h'])`);
    const w = db.jl.worker({ queues: ['nothing'], handlers: { x: async () => null } });
    await (w as unknown as { maintenance: { retention(): Promise<void> } }).maintenance.retention();
    expect(await rows()).not.toContain('throttle:lead');
    expect(await windows('lead-q')).toEqual([]);
  });
});
