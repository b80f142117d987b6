/**
 * Enqueue policies (issue 15): singletonKey, throttle and debounce — transactional, race-free
 * under concurrent enqueues (separate connections), and visible in the result.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ValidationError } from '@jobline/core';
import { JobFinished as FINISHED_STATES } from '../packages/core/dist/model/states.js';
import { openTestDb, type TestDb } from './helpers/db.js';

let db: TestDb;
beforeAll(async () => {
  db = await openTestDb({ poolSize: 12 } as never);
});
afterAll(() => db.close());

const one = async (spec: Parameters<TestDb['jl']['insertJobs']>[0][number]) => (await db.jl.insertJobs([spec], {}, true))[0];

describe('singletonKey', () => {
  it('returns the unfinished job for a repeated key, per queue, and allows a new one once it finished', async () => {
    const a = await one({ queue: 'sq', name: 'sync', singletonKey: 'acct-1', input: { n: 1 } });
    expect(a).toMatchObject({ created: true, job: { singletonKey: 'acct-1', input: { n: 1 } } });
    const b = await one({ queue: 'sq', name: 'sync', singletonKey: 'acct-1', input: { n: 2 } });
    expect(b).toMatchObject({ created: false, policy: 'singletonKey', job: { id: a.job.id, input: { n: 1 } } });
    // Keys are per queue.
    const other = await one({ queue: 'sq2', name: 'sync', singletonKey: 'acct-1' });
    expect(other.created).toBe(true);
    // jl.enqueue shows the key on the job.
    expect((await db.jl.enqueue({ queue: 'sq', name: 'sync', singletonKey: 'acct-1' })).id).toBe(a.job.id);
    await db.q(`update $S.jobs set state = 'completed', completed_at = now() where id = $1`, [a.job.id]);
    const c = await one({ queue: 'sq', name: 'sync', singletonKey: 'acct-1' });
    expect(c.created).toBe(true);
    expect(c.job.id).not.toBe(a.job.id);
  });

  it('the partial unique index excludes exactly the finished states of the model', async () => {
    const [r] = await db.sql(
      `select pg_get_indexdef(i.indexrelid) as def from pg_index i join pg_class c on c.oid = i.indexrelid
      join pg_namespace n on n.oid = c.relnamespace where n.nspname = $1 and c.relname = 'jobs_singleton_key_idx'`,
      [db.schema],
    );
    const states = [...r.def.matchAll(/'([a-z_]+)'::text/g)].map((m) => m[1]).sort();
    expect(states).toEqual([...FINISHED_STATES].sort());
    expect(r.def).toMatch(/UNIQUE/);
  });

  it('20 concurrent enqueues of one key create exactly one job; the database refuses a second unfinished one', async () => {
    const rs = await Promise.all(Array.from({ length: 20 }, (_, i) => one({ queue: 'race', name: 'x', singletonKey: 'k', input: { i } })));
    expect(rs.filter((r) => r.created)).toHaveLength(1);
    expect(new Set(rs.map((r) => r.job.id)).size).toBe(1);
    expect(await db.q(`select count(*)::int as n from $S.jobs where queue = 'race'`)).toEqual([{ n: 1 }]);
    await expect(db.q(`insert into $S.jobs (queue, name, state, singleton_key) values ('race', 'y', 'available', 'k')`)).rejects.toThrow(
      /jobs_singleton_key_idx/,
    );
  });

  it('is transactional: a rolled-back singleton leaves the key free', async () => {
    await expect(
      db.jl.transaction(async (tx) => {
        await db.jl.enqueue({ queue: 'txq', name: 'a', singletonKey: 'k' }, { tx });
        throw new Error('abort');
      }),
    ).rejects.toThrow('abort');
    expect((await one({ queue: 'txq', name: 'a', singletonKey: 'k' })).created).toBe(true);
  });

  it('works in enqueueMany: two specs with one key in one call give one job', async () => {
    const rs = await db.jl.insertJobs([
      { queue: 'many', name: 'a', singletonKey: 'same' },
      { queue: 'many', name: 'plain' },
      { queue: 'many', name: 'a', singletonKey: 'same' },
    ]);
    expect(rs.map((r) => r.created)).toEqual([true, true, false]);
    expect(rs[2].job.id).toBe(rs[0].job.id);
    expect(rs[1].job.name).toBe('plain');
  });
});

describe('throttle', () => {
  it('keeps the first job of a window and returns it for later enqueues; a new window creates a new job', async () => {
    const a = await one({ queue: 'tq', name: 'report', throttle: { key: 't1', periodMs: 60_000 }, input: { v: 1 } });
    expect(a.created).toBe(true);
    const b = await one({ queue: 'tq', name: 'report', throttle: { key: 't1', periodMs: 60_000 }, input: { v: 2 } });
    expect(b).toMatchObject({ created: false, policy: 'throttle', job: { id: a.job.id, input: { v: 1 } } });
    // Even after the first job finished, the window holds.
    await db.q(`update $S.jobs set state = 'completed' where id = $1`, [a.job.id]);
    expect((await one({ queue: 'tq', name: 'report', throttle: { key: 't1', periodMs: 60_000 } })).job.id).toBe(a.job.id);
    // The window ends (backdated, no sleeping): the next enqueue creates a job.
    await db.q(`update $S.enqueue_windows set ends_at = now() - interval '1 second' where key = 't1'`);
    const c = await one({ queue: 'tq', name: 'report', throttle: { key: 't1', periodMs: 60_000 }, input: { v: 3 } });
    expect(c).toMatchObject({ created: true, job: { input: { v: 3 } } });
    expect(await db.q(`select count(*)::int as n from $S.jobs where queue = 'tq'`)).toEqual([{ n: 2 }]);
  });

  it('lets exactly one of 20 concurrent enqueues through', async () => {
    const rs = await Promise.all(
      Array.from({ length: 20 }, () => one({ queue: 'trace', name: 'x', throttle: { key: 'k', periodMs: 60_000 } })),
    );
    expect(rs.filter((r) => r.created)).toHaveLength(1);
    expect(new Set(rs.map((r) => r.job.id)).size).toBe(1);
  });
});

describe('debounce', () => {
  it('replaces the pending job input and pushes its start; the last enqueue wins', async () => {
    const a = await one({ queue: 'dq', name: 'index', debounce: { key: 'doc-1', periodMs: 30_000 }, input: { rev: 1 } });
    expect(a).toMatchObject({ created: true, job: { state: 'scheduled' } });
    expect(a.job.runAt.getTime() - a.job.createdAt.getTime()).toBeGreaterThanOrEqual(29_000);
    const b = await one({ queue: 'dq', name: 'index', debounce: { key: 'doc-1', periodMs: 30_000 }, input: { rev: 2 } });
    expect(b).toMatchObject({ created: false, policy: 'debounce', job: { id: a.job.id, input: { rev: 2 }, state: 'scheduled' } });
    expect(b.job.runAt.getTime()).toBeGreaterThanOrEqual(a.job.runAt.getTime());
    expect(await db.q(`select count(*)::int as n from $S.jobs where queue = 'dq'`)).toEqual([{ n: 1 }]);
  });

  it('creates a new job once the debounced one started', async () => {
    const a = await one({ queue: 'dq2', name: 'index', debounce: { key: 'k', periodMs: 1000 }, input: { rev: 1 } });
    await db.q(`update $S.jobs set state = 'running', attempt = 1 where id = $1`, [a.job.id]);
    const b = await one({ queue: 'dq2', name: 'index', debounce: { key: 'k', periodMs: 1000 }, input: { rev: 2 } });
    expect(b.created).toBe(true);
    expect(b.job.id).not.toBe(a.job.id);
    expect((await db.jl.getJob(a.job.id)).input).toEqual({ rev: 1 });
  });

  it('20 concurrent enqueues leave one pending job holding one of their inputs', async () => {
    const rs = await Promise.all(
      Array.from({ length: 20 }, (_, i) => one({ queue: 'drace', name: 'x', debounce: { key: 'k', periodMs: 60_000 }, input: { i } })),
    );
    expect(rs.filter((r) => r.created)).toHaveLength(1);
    const jobs = await db.q(`select input from $S.jobs where queue = 'drace'`);
    expect(jobs).toHaveLength(1);
    expect(rs.map((r) => r.job.input)).toContainEqual(jobs[0].input);
  });
});

describe('bad policy input', () => {
  it.each([
    [{ throttle: { key: 'k', periodMs: 0 } }, 'throttle.periodMs'],
    [{ debounce: { key: 'k', periodMs: -5 } }, 'debounce.periodMs'],
    [{ debounce: { key: '', periodMs: 5 } }, 'debounce.key'],
    [{ throttle: { key: 'k' } }, 'throttle.periodMs'],
    [{ singletonKey: 5 }, 'singletonKey'],
    [{ singletonKey: 'a', throttle: { key: 'k', periodMs: 5 } }, 'throttle'],
  ])('%j names %s and writes nothing', async (extra, field) => {
    const before = await db.q(`select count(*)::int as n from $S.jobs`);
    const err = await db.jl.enqueue({ queue: 'bad', name: 'x', ...(extra as object) }).catch((e) => e);
    expect(err).toBeInstanceOf(ValidationError);
    expect((err as ValidationError).issues.map((i) => i.path)).toContain(field);
    expect(await db.q(`select count(*)::int as n from $S.jobs`)).toEqual(before);
  });
});
