import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openTestDb, waitFor, type TestDb } from './helpers/db.js';

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
    await new Promise((r) => setTimeout(r, 500));
    expect(received.filter((q) => q === 'burst')).toEqual(['burst', 'burst']);
  });

  it('notifies inside a caller transaction only at commit', async () => {
    received.length = 0;
    const client = await db.jl.pool.connect();
    try {
      await client.query('begin');
      await db.jl.enqueueMany([{ queue: 'txq', name: 'a' }, { queue: 'txq', name: 'b' }], { tx: client });
      await new Promise((r) => setTimeout(r, 100));
      expect(received).toEqual([]);
      await client.query('commit');
    } finally {
      client.release();
    }
    await waitFor(() => received.includes('txq'), 5000, 'notification at commit');
    expect(received).toEqual(['txq']);
  });

  it('wakes an idle worker at once, without waiting for its (long) poll interval', async () => {
    let ran = false;
    const w = db.jl.worker({ queues: ['idle'], pollIntervalMs: 600_000, handlers: { x: async () => void (ran = true) } });
    await w.start();
    await new Promise((r) => setTimeout(r, 300)); // the worker has polled once and is now waiting
    await db.jl.enqueue({ queue: 'idle', name: 'x' });
    await waitFor(() => ran, 10_000, 'the job to run after NOTIFY (polling would take 10 minutes)');
    await w.stop();
  });
});
