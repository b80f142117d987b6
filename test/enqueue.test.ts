import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ValidationError } from '@jobline/core';
import { withTransaction } from '@jobline/core/admin';
import { openTestDb, type TestDb } from './helpers/db.js';
import { internals } from '@jobline/core/internal';

let db: TestDb;
beforeAll(async () => {
  db = await openTestDb({ maxInputBytes: 4096 });
});
afterAll(() => db.close());

describe('enqueue', () => {
  it('stores a job with defaults and returns it', async () => {
    const job = await db.jl.enqueue({ queue: 'mail', name: 'send', input: { to: 'a@example.com' } });
    expect(job).toMatchObject({
      queue: 'mail',
      name: 'send',
      state: 'available',
      attempt: 0,
      priority: 0,
      maxAttempts: 5,
      input: { to: 'a@example.com' },
    });
    expect(job.createdAt).toBeInstanceOf(Date);
    expect(await db.jl.getJob(job.id)).toEqual(job);
  });

  it('is invisible until the caller commits and gone on rollback', async () => {
    let inside = 0;
    await withTransaction(internals(db.jl).pool, async (tx) => {
      const j = await db.jl.enqueue({ queue: 'tx', name: 'a' }, { tx });
      inside = j.id;
      // another connection does not see it yet
      const seen = await db.sql(`select 1 from "${db.schema}".jobs where id = $1`, [j.id]);
      expect(seen).toHaveLength(0);
    });
    expect((await db.jl.getJob(inside)).state).toBe('available');

    let rolledBack = 0;
    await expect(
      withTransaction(internals(db.jl).pool, async (tx) => {
        rolledBack = (await db.jl.enqueue({ queue: 'tx', name: 'b' }, { tx })).id;
        throw new Error('abort');
      }),
    ).rejects.toThrow('abort');
    await expect(db.jl.getJob(rolledBack)).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });

  it('returns the existing job for a repeated idempotency key in the same queue', async () => {
    const a = await db.jl.enqueue({ queue: 'idem', name: 'x', idempotencyKey: 'k1', input: 1 });
    const b = await db.jl.enqueue({ queue: 'idem', name: 'x', idempotencyKey: 'k1', input: 2 });
    expect(b.id).toBe(a.id);
    expect(b.input).toBe(1);
    const other = await db.jl.enqueue({ queue: 'idem2', name: 'x', idempotencyKey: 'k1' });
    expect(other.id).not.toBe(a.id);
    const many = await db.jl.insertJobs([
      { queue: 'idem', name: 'x', idempotencyKey: 'k1' },
      { queue: 'idem', name: 'x', idempotencyKey: 'k2' },
      { queue: 'idem', name: 'x', idempotencyKey: 'k2' },
      { queue: 'idem', name: 'x' },
    ]);
    expect(many.map((r) => r.created)).toEqual([false, true, false, true]);
    expect(many[0].job.id).toBe(a.id);
    expect(many[1].job.id).toBe(many[2].job.id);
    const rows = await db.sql(`select count(*)::int as n from "${db.schema}".jobs where queue = 'idem' and idempotency_key = 'k2'`);
    expect(rows[0].n).toBe(1);
  });

  it('enqueues 10,000 jobs in one statement, in input order', async () => {
    const specs = Array.from({ length: 10_000 }, (_, i) => ({ queue: 'bulk', name: 'n', input: { i } }));
    const jobs = await db.jl.enqueueMany(specs);
    expect(jobs).toHaveLength(10_000);
    jobs.forEach((j, i) => expect(j.input).toEqual({ i }));
    expect(new Set(jobs.map((j) => j.id)).size).toBe(10_000);
  });

  it('schedules jobs with a future runAt', async () => {
    const j = await db.jl.enqueue({ queue: 'later', name: 'x', runAt: new Date(Date.now() + 60_000) });
    expect(j.state).toBe('scheduled');
  });

  it('rejects bad input with a ValidationError naming each field, and writes nothing', async () => {
    const before = await db.sql(`select count(*)::int as n from "${db.schema}".jobs`);
    const cases: [unknown, string][] = [
      [{ queue: 'q', name: '' }, 'name'],
      [{ queue: 'bad queue', name: 'x' }, 'queue'],
      [{ queue: 'q', name: 'x', priority: 1.5 }, 'priority'],
      [{ queue: 'q', name: 'x', maxAttempts: 0 }, 'maxAttempts'],
      [{ queue: 'q', name: 'x', timeoutMs: -1 }, 'timeoutMs'],
      [{ queue: 'q', name: 'x', runAt: 'yesterday' }, 'runAt'],
      [{ queue: 'q', name: 'x', input: { big: 'x'.repeat(5000) } }, 'input'],
      [{ queue: 'q', name: 'x', input: { n: 10n } }, 'input'],
      [{ queue: 'q', name: 'x', input: 'nul\u0000' }, 'input'],
      [{ queue: 'q', name: 'x', surprise: true }, ''],
      [{ queue: 'q', name: 'nul\u0000name' }, 'name'],
      [{ queue: 'q', name: 'x', idempotencyKey: '\ud800' }, 'idempotencyKey'],
    ];
    for (const [spec, field] of cases) {
      const err = await db.jl.enqueue(spec as never).catch((e) => e);
      expect(
        err,
        JSON.stringify(spec, (_, v) => (typeof v === 'bigint' ? String(v) : v)),
      ).toBeInstanceOf(ValidationError);
      expect((err as ValidationError).issues.map((i) => i.path)).toContain(field);
    }
    const circular: Record<string, unknown> = {};
    circular.self = circular;
    await expect(db.jl.enqueue({ queue: 'q', name: 'x', input: circular })).rejects.toThrow(/input: is not JSON-serialisable/);
    // one bad job in a batch rejects the batch, naming its index
    const err = await db.jl
      .enqueueMany([
        { queue: 'q', name: 'ok' },
        { queue: 'q', name: 'x', priority: 'high' as never },
      ])
      .catch((e) => e);
    expect(err.issues[0].path).toBe('jobs.1.priority');
    const after = await db.sql(`select count(*)::int as n from "${db.schema}".jobs`);
    expect(after[0].n).toBe(before[0].n);
  });
});
