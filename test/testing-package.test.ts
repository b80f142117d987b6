/**
 * @jobline/testing against the real engine: a schema per test database, reset, idempotent
 * seed, runJob through the real worker (history, retries), drain, and the enqueue assertions.
 */
import { AssertionError } from 'node:assert';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { NonRetryableError, type Handlers } from '@jobline/core';
import { createTestDatabase, matches, type TestDatabase } from '@jobline/testing';
import { databaseUrl } from './helpers/db.js';

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase({ databaseUrl: databaseUrl() });
});
afterAll(() => db?.close());
beforeEach(() => db.reset());

const handlers: Handlers = {
  add: async (i: { a: number; b: number }) => ({ sum: i.a + i.b }),
  flaky: async (_i, ctx) => {
    if (ctx.attempt < 3) throw new Error(`attempt ${ctx.attempt} fails`);
    return { attempt: ctx.attempt };
  },
  never: async () => {
    throw new NonRetryableError('bad input');
  },
  fanout: async (i: { n: number }, ctx) => {
    // A handler that enqueues more work: drain runs that too.
    if (i.n > 0) await db.jl.enqueue({ queue: ctx.job.queue, name: 'fanout', input: { n: i.n - 1 } });
    return { n: i.n };
  },
};

describe('createTestDatabase', () => {
  it('gives a migrated schema of its own, dropped on close', async () => {
    const other = await createTestDatabase({ databaseUrl: databaseUrl() });
    expect(other.schema).not.toBe(db.schema);
    expect((await other.sql(`select count(*)::int as n from ${other.s}.migrations`))[0].n).toBeGreaterThan(0);
    await other.jl.enqueue({ queue: 'iso', name: 'add' });
    expect(await db.enqueued({ queue: 'iso' })).toEqual([]);
    await other.close();
    const left = await db.sql(`select 1 from pg_namespace where nspname = $1`, [other.schema]);
    expect(left).toEqual([]);
  });

  it('says what to check when no container engine answers', async () => {
    // The real container path is proven on podman by .ci/steps/56-testcontainers.sh; here the
    // engine socket points at nothing, so the start must fail with a message naming the setting.
    const saved = { host: process.env.DOCKER_HOST, sock: process.env.JOBLINE_DOCKER_SOCKET };
    process.env.DOCKER_HOST = 'unix:///nonexistent/jobline-no-engine.sock';
    delete process.env.JOBLINE_DOCKER_SOCKET;
    try {
      await expect(createTestDatabase({ container: { image: 'localhost/none:0', startupTimeoutMs: 5_000 } })).rejects.toThrow(
        /container runtime|DOCKER_HOST/i,
      );
    } finally {
      if (saved.host === undefined) delete process.env.DOCKER_HOST;
      else process.env.DOCKER_HOST = saved.host;
      if (saved.sock !== undefined) process.env.JOBLINE_DOCKER_SOCKET = saved.sock;
    }
  });

  it('reset() empties every table and restarts ids', async () => {
    await db.jl.enqueueMany([
      { queue: 'r', name: 'add' },
      { queue: 'r', name: 'add' },
    ]);
    await db.jl.updateQueue('r', { paused: true });
    await db.reset();
    expect(await db.sql(`select count(*)::int as n from ${db.s}.jobs`)).toEqual([{ n: 0 }]);
    expect(await db.sql(`select count(*)::int as n from ${db.s}.queues`)).toEqual([{ n: 0 }]);
    expect((await db.jl.enqueue({ queue: 'r', name: 'add' })).id).toBe(1);
  });
});

describe('seed', () => {
  it('is idempotent: twice leaves what once does', async () => {
    const data = {
      queues: { mail: { concurrencyLimit: 3 } },
      definitions: [{ name: 'send-mail', executor: 'handler' as const, defaults: { queue: 'mail' } }],
      constraints: [{ name: 'one-at-a-time', maxConcurrentRuns: 1 }],
      actions: [{ name: 'again', type: 'retry' as const, config: { maxRetries: 1 } }],
      schedules: [{ name: 'nightly', cron: '0 3 * * *', job: { queue: 'mail', name: 'digest' }, constraint: 'one-at-a-time' }],
      jobs: [
        { queue: 'mail', name: 'send-mail', input: { to: 'a@example.com' } },
        { queue: 'mail', name: 'send-mail', input: { to: 'b@example.com' }, idempotencyKey: 'welcome-b' },
      ],
    };
    const first = await db.seed(data);
    expect(first.jobs.map((j) => j.created)).toEqual([true, true]);
    expect(first.definitionsCreated).toBe(1);
    expect(first.created).toEqual({ constraints: 1, actions: 1, schedules: 1 });
    const count = async () =>
      (
        await db.sql(`select (select count(*) from ${db.s}.jobs)::int as jobs, (select count(*) from ${db.s}.job_definitions)::int as defs,
              (select count(*) from ${db.s}.schedules)::int as schedules, (select count(*) from ${db.s}.constraints)::int as constraints,
              (select count(*) from ${db.s}.actions)::int as actions, (select count(*) from ${db.s}.queues)::int as queues`)
      )[0];
    const once = await count();
    const second = await db.seed(data);
    expect(second.jobs).toEqual(first.jobs.map((j) => ({ ...j, created: false })));
    expect(second.definitionsCreated).toBe(0);
    expect(second.created).toEqual({ constraints: 0, actions: 0, schedules: 0 });
    expect(await count()).toEqual(once);
    expect(once).toEqual({ jobs: 2, defs: 1, schedules: 1, constraints: 1, actions: 1, queues: 1 });
    expect((await db.jl.schedules.get('nightly')).cron).toBe('0 3 * * *');
  });
});

describe('runJob', () => {
  it('runs a job through the worker and returns its outcome and history', async () => {
    const r = await db.runJob<{ sum: number }>(handlers, { queue: 'math', name: 'add', input: { a: 2, b: 3 } });
    expect(r.state).toBe('completed');
    expect(r.output).toEqual({ sum: 5 });
    expect(r.executions).toHaveLength(1);
    expect(r.executions[0]).toMatchObject({ attempt: 1, state: 'completed', output: { sum: 5 } });
    expect(r.job.workerId).toBe(r.executions[0].workerId);
  });

  it('runs one attempt by default, every retry at once with retries: true', async () => {
    const one = await db.runJob(handlers, { queue: 'f1', name: 'flaky', maxAttempts: 5 });
    expect(one.state).toBe('retryable');
    expect(one.executions.map((e) => e.state)).toEqual(['failed']);
    const all = await db.runJob(handlers, one.job.id, { retries: true });
    expect(all.state).toBe('completed');
    expect(all.executions.map((e) => e.state)).toEqual(['failed', 'failed', 'completed']);
    const bad = await db.runJob(handlers, { queue: 'f2', name: 'never' }, { retries: true });
    expect(bad.state).toBe('failed');
    expect(bad.error).toMatchObject({ message: 'bad input' });
  });

  it('runs a job scheduled for later now, and refuses a job without a handler', async () => {
    const later = await db.jl.enqueue({ queue: 'later', name: 'add', input: { a: 1, b: 1 }, runAt: new Date(Date.now() + 3600_000) });
    expect((await db.runJob(handlers, later.id)).output).toEqual({ sum: 2 });
    await expect(db.runJob(handlers, { queue: 'x', name: 'nope' })).rejects.toThrow(
      /no handler for job name "nope" \(handlers given: add, flaky, never, fanout\)/,
    );
    await db.expectNotEnqueued({ queue: 'x', state: 'any' });
  });
});

describe('drain and assertions', () => {
  it('drains a queue, including the jobs its handlers enqueue', async () => {
    await db.jl.enqueue({ queue: 'fan', name: 'fanout', input: { n: 4 } });
    await db.jl.enqueue({ queue: 'fan', name: 'never' });
    const r = await db.drain('fan', handlers);
    expect(r.completed).toHaveLength(5);
    expect(r.failed).toHaveLength(1);
    await db.expectNotEnqueued({ queue: 'fan' });
    expect(await db.enqueued({ queue: 'fan', state: 'completed' })).toHaveLength(5);
  });

  it('expectEnqueued matches queue, name and an input subset, and explains a miss', async () => {
    await db.jl.enqueue({ queue: 'mail', name: 'send', input: { to: 'a@example.com', tags: ['x'], meta: { lang: 'en', n: 1 } } });
    const [job] = await db.expectEnqueued({ queue: 'mail', name: 'send', input: { meta: { lang: 'en' } } });
    expect(job.input).toMatchObject({ to: 'a@example.com' });
    await db.expectEnqueued({ queue: 'mail' }, { count: 1 });
    const miss = await db.expectEnqueued({ queue: 'mail', name: 'send', input: { to: 'b@example.com' } }).catch((e) => e);
    expect(miss).toBeInstanceOf(AssertionError);
    expect(miss.message).toContain('found 0');
    expect(miss.message).toContain('mail/send available input={"to":"a@example.com"');
    await expect(db.expectNotEnqueued({ queue: 'mail', name: 'send' })).rejects.toThrow(/expected no job matching/);
  });

  it('matches() compares objects by subset and arrays element by element', () => {
    expect(matches({ a: 1, b: { c: 2, d: 3 } }, { b: { c: 2 } })).toBe(true);
    expect(matches({ a: [1, 2] }, { a: [1] })).toBe(false);
    expect(matches({ a: [{ x: 1, y: 2 }] }, { a: [{ x: 1 }] })).toBe(true);
    expect(matches({ a: '1' }, { a: 1 })).toBe(false);
    expect(matches(null, { a: 1 })).toBe(false);
  });
});
