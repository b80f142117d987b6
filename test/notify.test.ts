import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openTestDb, waitFor, type TestDb } from './helpers/db.js';
import { watchClaims } from './helpers/claims.js';
import { internals } from '@jobline/core/internal';

let db: TestDb;
let listener: pg.Client;
const received: string[] = [];
beforeAll(async () => {
  // A window far longer than the burst takes even on a loaded machine (with 200 ms a slow burst
  // spanned two windows and sent a third notification).
  db = await openTestDb({ notifyDebounceMs: 3000 });
  // LISTEN needs a direct connection (behind the CI pooler run, DATABASE_URL is PgBouncer).
  listener = new pg.Client({ connectionString: process.env.JOBLINE_DIRECT_URL || db.url });
  await listener.connect();
  listener.on('notification', (m) => received.push(m.payload ?? ''));
  await listener.query(`listen "${db.schema}_jobs"`);
});
afterAll(async () => {
  await listener.end();
  await db.close();
});

describe('wake-ups', () => {
  it('debounces NOTIFY per queue: a burst of 100 enqueues sends a leading and a trailing notification', async () => {
    received.length = 0;
    await Promise.all(Array.from({ length: 100 }, (_, i) => db.jl.enqueue({ queue: 'burst', name: 'x', input: i })));
    await waitFor(() => received.filter((q) => q === 'burst').length >= 2, 10_000, 'trailing notification');
    // No sleep to see that no third one comes: a marker sent now arrives after anything sent before it.
    await internals(db.jl).pool.query(`select pg_notify($1, 'marker')`, [`${db.schema}_jobs`]);
    await waitFor(() => received.includes('marker'), 5000, 'the marker notification');
    expect(received).toEqual(['burst', 'burst', 'marker']);
  });

  it("an idle producer's enqueue carries its own NOTIFY: one statement, delivered at its commit", async () => {
    received.length = 0;
    const pool = internals(db.jl).pool;
    const statements: string[] = [];
    const query = pool.query;
    // Counts what the enqueue sends through the pool (a separate NOTIFY would be a second statement).
    pool.query = ((cfg: unknown, ...rest: unknown[]) => {
      statements.push(typeof cfg === 'string' ? cfg : ((cfg as { name?: string; text: string }).name ?? 'unnamed'));
      return (query as (...a: unknown[]) => unknown).call(pool, cfg, ...rest);
    }) as typeof pool.query;
    try {
      await db.jl.enqueue({ queue: 'idle-producer', name: 'x' });
    } finally {
      pool.query = query;
    }
    expect(statements).toEqual([expect.stringMatching(/^jobline_insert_notify_/)]);
    await waitFor(() => received.includes('idle-producer'), 5000, 'the notification of the insert');
    expect(received).toEqual(['idle-producer']);
  });

  it('notifies inside a caller transaction only at commit', async () => {
    received.length = 0;
    const client = await internals(db.jl).pool.connect();
    try {
      await client.query('begin');
      await db.jl.enqueueMany(
        [
          { queue: 'txq', name: 'a' },
          { queue: 'txq', name: 'b' },
        ],
        { tx: client },
      );
      // A marker sent after the enqueue and committed on its own: notifications arrive in commit
      // order, so once it is here anything the open transaction had sent would be here too.
      await internals(db.jl).pool.query(`select pg_notify($1, 'marker')`, [`${db.schema}_jobs`]);
      await waitFor(() => received.includes('marker'), 5000, 'the marker notification');
      expect(received).toEqual(['marker']);
      await client.query('commit');
    } finally {
      client.release();
    }
    await waitFor(() => received.includes('txq'), 5000, 'notification at commit');
    expect(received).toEqual(['marker', 'txq']);
  });

  it('wakes an idle worker at once, without waiting for its (long) poll interval', async () => {
    let ran = false;
    const w = db.jl.worker({ queues: ['idle'], pollIntervalMs: 600_000, handlers: { x: async () => void (ran = true) } });
    // Watch the worker's claims: the signal that it has polled (found nothing) and is now idle.
    const { claimed, inFlight } = watchClaims(w);
    await w.start();
    try {
      await waitFor(() => claimed.length > 0 && inFlight() === 0, 10_000, 'the first (empty) claim');
      expect(claimed.every((n) => n === 0)).toBe(true);
      // Idle now: with no claim in flight and a 10-minute poll, only the NOTIFY can start a claim.
      await db.jl.enqueue({ queue: 'idle', name: 'x' });
      await waitFor(() => ran, 10_000, 'the job to run after NOTIFY (polling would take 10 minutes)');
      expect(claimed.at(-1)).toBe(1);
    } finally {
      await w.stop();
    }
  });
});
