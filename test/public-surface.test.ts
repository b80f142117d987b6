/**
 * Public surface that coverage showed untested: quoteSchema and schema-name injection, an
 * enqueue of more than 10,000 jobs (several statements, one transaction), LISTEN recovery after
 * its connection drops, constraints.update/get, actions.update, and FOREIGN_KEY → 400.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Jobline, NotFoundError, ValidationError } from '@jobline/core';
import { quoteSchema, withTransaction } from '@jobline/core/admin';
import { databaseUrl, openTestDb, quietLogger, waitFor, type TestDb } from './helpers/db.js';
import { watchClaims } from './helpers/claims.js';
import { startTestProducer } from './fixtures/app-producer.js';
import { internals } from '@jobline/core/internal';

let db: TestDb;
beforeAll(async () => {
  db = await openTestDb({ applicationName: `jl-surface-${process.pid}` });
});
afterAll(() => db.close());

describe('schema names', () => {
  it('quoteSchema quotes valid names and refuses anything that could leave the identifier', () => {
    expect(quoteSchema('jobline')).toBe('"jobline"');
    expect(quoteSchema('_t_1')).toBe('"_t_1"');
    expect(quoteSchema('a'.repeat(63))).toBe(`"${'a'.repeat(63)}"`);
    for (const bad of [
      'x"; drop table jobs; --',
      'x" cascade',
      'Jobline',
      'a b',
      'a-b',
      '1abc',
      '',
      'a'.repeat(64),
      'a.b',
      'ä',
      'a\u0000',
    ]) {
      const err = (() => {
        try {
          quoteSchema(bad);
        } catch (e) {
          return e;
        }
      })();
      expect(err, JSON.stringify(bad)).toBeInstanceOf(ValidationError);
      expect((err as ValidationError).issues.map((i) => i.path)).toEqual(['schema']);
    }
  });

  it('Jobline.connect refuses an injected schema name before running any SQL', async () => {
    const evil = 'x"; drop schema public cascade; --';
    await expect(Jobline.connect({ databaseUrl: databaseUrl(), schema: evil, logger: quietLogger(), natsUrl: '' })).rejects.toBeInstanceOf(
      ValidationError,
    );
    const [r] = await db.sql(`select count(*)::int as n from pg_namespace where nspname like 'x"%' or nspname = 'public'`);
    expect(r.n).toBe(1); // public is still there, nothing named after the attempt
  });
});

describe('enqueueMany over 10,000 jobs', () => {
  it('writes 20,001 jobs in one transaction (three statements), in input order', async () => {
    const specs = Array.from({ length: 20_001 }, (_, i) => ({ queue: 'big', name: 'x', input: { i } }));
    const jobs = await db.jl.enqueueMany(specs);
    expect(jobs).toHaveLength(20_001);
    expect(jobs.every((j, i) => (j.input as { i: number }).i === i)).toBe(true);
    // xmin is the writing transaction: one for all three statements
    const [r] = await db.q(`select count(*)::int as n, count(distinct xmin::text)::int as txs from $S.jobs where queue = 'big'`);
    expect(r).toEqual({ n: 20_001, txs: 1 });
  });

  it('is all or nothing: a failure in the third statement leaves none of the first two', async () => {
    await db.q(`alter table $S.jobs add constraint no_poison check (name <> 'poison')`);
    try {
      const specs = Array.from({ length: 20_001 }, (_, i) => ({ queue: 'atomic', name: i === 20_000 ? 'poison' : 'x' }));
      await expect(db.jl.enqueueMany(specs)).rejects.toThrow();
      const [r] = await db.q(`select count(*)::int as n from $S.jobs where queue = 'atomic'`);
      expect(r.n).toBe(0);
    } finally {
      await db.q(`alter table $S.jobs drop constraint no_poison`);
    }
  });

  it('inside a caller transaction, rolls back with it', async () => {
    const specs = Array.from({ length: 10_001 }, () => ({ queue: 'rolled', name: 'x' }));
    await expect(
      withTransaction(internals(db.jl).pool, async (tx) => {
        expect(await db.jl.enqueueMany(specs, { tx })).toHaveLength(10_001);
        throw new Error('caller rolls back');
      }),
    ).rejects.toThrow('caller rolls back');
    const [r] = await db.q(`select count(*)::int as n from $S.jobs where queue = 'rolled'`);
    expect(r.n).toBe(0);
  });
});

describe('LISTEN recovery', () => {
  it('after its connection is terminated, the listener reconnects and NOTIFY wakes the idle worker again', async () => {
    let ran = false;
    const w = db.jl.worker({ queues: ['relisten'], pollIntervalMs: 600_000, handlers: { x: async () => void (ran = true) } });
    const { claimed, inFlight } = watchClaims(w);
    const listenerName = `jl-surface-${process.pid}-listener`;
    const listenerPid = async () => (await db.sql(`select pid from pg_stat_activity where application_name = $1`, [listenerName]))[0]?.pid;
    await w.start();
    try {
      const first = await waitFor(listenerPid, 10_000, 'the listener connection');
      await waitFor(() => claimed.length > 0 && inFlight() === 0, 10_000, 'the first (empty) claim');
      const beforeDrop = claimed.length;
      await db.sql('select pg_terminate_backend($1)', [first]);
      // the signal: a new listener backend (it re-LISTENs, then re-reads once)
      await waitFor(
        async () => {
          const p = await listenerPid();
          return p !== undefined && p !== first;
        },
        20_000,
        'the listener to reconnect',
      );
      await waitFor(() => claimed.length > beforeDrop && inFlight() === 0, 10_000, 'the re-read after reconnecting');
      await waitFor(
        async () =>
          (
            await db.sql(`select count(*)::int as n from pg_stat_activity where application_name = $1 and query ilike 'listen%'`, [
              listenerName,
            ])
          )[0].n === 1,
        10_000,
        'LISTEN on the new connection',
      );
      const before = claimed.length;
      await db.jl.enqueue({ queue: 'relisten', name: 'x' });
      await waitFor(() => ran, 10_000, 'the job to run after NOTIFY on the new connection (polling would take 10 minutes)');
      expect(claimed.length).toBeGreaterThan(before);
      expect(claimed.at(-1)).toBe(1);
    } finally {
      await w.stop();
    }
  });
});

describe('constraints and actions', () => {
  it('constraints.get and constraints.update: fields change, null clears, bad fields named, unknown → NotFoundError', async () => {
    await db.jl.constraints.add({ name: 'cap', maxConcurrentRuns: 2, catchUp: true, catchUpWindowMs: 60_000 });
    expect(await db.jl.constraints.get('cap')).toMatchObject({
      name: 'cap',
      maxConcurrentRuns: 2,
      concurrencyPolicy: 'skip',
      catchUp: true,
      catchUpWindowMs: 60_000,
    });
    const updated = await db.jl.constraints.update('cap', { maxConcurrentRuns: 3, concurrencyPolicy: 'delay', catchUpWindowMs: null });
    expect(updated).toMatchObject({ maxConcurrentRuns: 3, concurrencyPolicy: 'delay', catchUp: true });
    expect(updated.catchUpWindowMs).toBeUndefined();
    expect(await db.jl.constraints.get('cap')).toEqual(updated);
    const bad = await db.jl.constraints.update('cap', { maxConcurrentRuns: 0, concurrencyPolicy: 'later' } as never).catch((e) => e);
    expect(bad).toBeInstanceOf(ValidationError);
    expect(bad.issues.map((i: { path: string }) => i.path).sort()).toEqual(['concurrencyPolicy', 'maxConcurrentRuns']);
    expect((await db.jl.constraints.get('cap')).maxConcurrentRuns).toBe(3); // unchanged by the refused patch
    await expect(db.jl.constraints.get('nope')).rejects.toBeInstanceOf(NotFoundError);
    await expect(db.jl.constraints.update('nope', { catchUp: false })).rejects.toBeInstanceOf(NotFoundError);
  });

  it('actions.update replaces the config (validated as a whole, secrets masked on read) and can change the type', async () => {
    await db.jl.actions.add({ name: 'hook', type: 'webhook', config: { url: 'http://127.0.0.1:9/a', secret: 'first-secret' } });
    const changed = await db.jl.actions.update('hook', {
      config: { url: 'http://127.0.0.1:9/b', secret: 'second-secret', timeoutMs: 1000 },
    });
    expect(changed.config).toMatchObject({ url: 'http://127.0.0.1:9/b', timeoutMs: 1000 });
    expect(JSON.stringify(changed)).not.toMatch(/second-secret|first-secret/);
    expect((await db.jl.actions.get('hook')).config).toMatchObject({ url: 'http://127.0.0.1:9/b' });
    const [stored] = await db.q(`select config from $S.actions where name = 'hook'`);
    expect(stored.config.secret).toBe('second-secret'); // stored, only masked on the way out
    const bad = await db.jl.actions.update('hook', { config: { url: 'ftp://x' } }).catch((e) => e);
    expect(bad).toBeInstanceOf(ValidationError);
    expect(bad.issues.map((i: { path: string }) => i.path)).toEqual(['config.url']);
    const retry = await db.jl.actions.update('hook', { type: 'retry', config: { maxRetries: 1 } });
    expect(retry).toMatchObject({ type: 'retry', config: { maxRetries: 1, delayMs: 0 } });
    await expect(db.jl.actions.update('nope', { config: {} })).rejects.toBeInstanceOf(NotFoundError);
  });
});

describe('HTTP errors', () => {
  it('a foreign-key violation from the database is a 400 FOREIGN_KEY, not a 500', async () => {
    // A reference the schema does not have, added here so that an enqueue can violate one.
    const fk = await openTestDb();
    const p = await startTestProducer(fk);
    try {
      await fk.q(`alter table $S.jobs add constraint jobs_queue_known foreign key (queue) references $S.queues (name)`);
      await fk.jl.updateQueue('known', { paused: false });
      expect((await p.call('POST', '/v1/jobs', { body: { queue: 'known', name: 'x' } })).status).toBe(201);
      const r = await p.call('POST', '/v1/jobs', { body: { queue: 'unknown', name: 'x' } });
      expect(r.status).toBe(400);
      expect(r.body.error.code).toBe('FOREIGN_KEY');
      expect(r.body.error.message).not.toBe('');
    } finally {
      await p.close();
      await fk.close();
    }
  });
});
