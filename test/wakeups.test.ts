/**
 * Issue 13 item 2: wake-ups over core NATS. Behind a transaction pooler without a direct URL no
 * LISTEN is possible; with NATS_URL the producer publishes a debounced wake-up per queue after
 * the commit and an idle worker (its poll set to a minute) starts the job at once. Without NATS
 * the same setup falls back to the poll (pollIntervalMs). Real PgBouncer, real NATS.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import pg from 'pg';
import { databaseUrl, quietLogger, uniqueSchema, waitFor } from './helpers/db.js';
import { startPgBouncer, type PgBouncer } from './helpers/pgbouncer.js';
import { Jobline } from '@jobline/core';
import { wakeSubject } from '@jobline/core/events';
import { internals } from '@jobline/core/internal';

const direct = process.env.JOBLINE_DIRECT_URL || databaseUrl();
const natsUrl = inject('natsUrl');
let bouncer: PgBouncer;
const opened: Jobline[] = [];

beforeAll(async () => {
  bouncer = await startPgBouncer(direct, { poolSize: 6 });
});
afterAll(async () => {
  await Promise.all(opened.map((j) => j.close().catch(() => {})));
  const admin = new pg.Client({ connectionString: direct });
  await admin.connect();
  for (const j of opened) await admin.query(`drop schema if exists "${j.schema}" cascade`).catch(() => {});
  await admin.end();
  await bouncer?.stop();
});

describe('NATS wake-ups', () => {
  it('subjects stay outside the event stream and encode odd names', () => {
    expect(wakeSubject('jobline', 'emails')).toBe('jobline_wake.jobline.emails');
    expect(wakeSubject('s', 'a.b c')).toBe(`jobline_wake.s.%${Buffer.from('a.b c').toString('hex')}`);
  });

  it('behind a pooler without a direct URL, an idle worker polling once a minute is woken by NATS at once', async () => {
    const schema = uniqueSchema('wake');
    const jl = await Jobline.connect({ databaseUrl: bouncer.url(), directUrl: '', schema, natsUrl, logger: quietLogger() });
    opened.push(jl);
    expect(internals(jl).topology).toMatchObject({ pooler: 'transaction', listenUrl: null, wakeups: 'nats' });
    await internals(jl).topology!.publisher!.ready();
    const w = jl.worker({
      queues: ['wq'],
      concurrency: 4,
      pollIntervalMs: 60_000,
      relay: false,
      scheduler: false,
      handlers: { noop: async () => 'ok' },
    });
    await w.start();
    // A first job, however it is found: once it is done the worker's last claim came back short,
    // so it sleeps for its 60 s poll.
    const first = await jl.enqueue({ queue: 'wq', name: 'noop' });
    await waitFor(async () => (await jl.getJob(first.id)).state === 'completed', 20_000, 'the first job');
    const received = w.wakeups!.received;
    const job = await jl.enqueue({ queue: 'wq', name: 'noop' });
    // Well inside the 60 s poll: only the wake-up can have started it.
    await waitFor(async () => (await jl.getJob(job.id)).state === 'completed', 20_000, 'the job to complete');
    expect(internals(jl).topology!.publisher!.sent).toBeGreaterThanOrEqual(2);
    expect(w.wakeups!.received).toBeGreaterThan(received);
    await w.stop();
  });

  it('without NATS the same setup is woken by its poll (the backstop)', async () => {
    const schema = uniqueSchema('wakepoll');
    const jl = await Jobline.connect({ databaseUrl: bouncer.url(), directUrl: '', schema, natsUrl: '', logger: quietLogger() });
    opened.push(jl);
    expect(internals(jl).topology).toMatchObject({ pooler: 'transaction', listenUrl: null, wakeups: 'notify' });
    const w = jl.worker({
      queues: ['pq'],
      concurrency: 2,
      pollIntervalMs: 300,
      relay: false,
      scheduler: false,
      handlers: { noop: async () => 'ok' },
    });
    await w.start();
    const job = await jl.enqueue({ queue: 'pq', name: 'noop' });
    await waitFor(async () => (await jl.getJob(job.id)).state === 'completed', 20_000, 'the job to complete by polling');
    expect(w.wakeups).toBeUndefined();
    await w.stop();
  });

  it('without LISTEN, cancelling a running job aborts its handler within a heartbeat', async () => {
    const schema = uniqueSchema('wakecancel');
    const jl = await Jobline.connect({ databaseUrl: bouncer.url(), directUrl: '', schema, natsUrl: '', logger: quietLogger() });
    opened.push(jl);
    expect(internals(jl).topology?.listenUrl).toBeNull();
    let started = false;
    let abortedWith: unknown;
    const w = jl.worker({
      queues: ['cq'],
      concurrency: 2,
      pollIntervalMs: 100,
      heartbeatIntervalMs: 300,
      relay: false,
      scheduler: false,
      handlers: {
        wait: (_input, ctx) =>
          new Promise((resolve, reject) => {
            started = true;
            const t = setTimeout(() => resolve('not cancelled'), 60_000);
            ctx.signal.addEventListener('abort', () => {
              clearTimeout(t);
              abortedWith = ctx.signal.reason;
              reject(ctx.signal.reason);
            });
          }),
      },
    });
    await w.start();
    const job = await jl.enqueue({ queue: 'cq', name: 'wait' });
    await waitFor(() => started, 20_000, 'the handler to start');
    await jl.cancel(job.id);
    await waitFor(() => abortedWith !== undefined, 20_000, 'the handler’s signal to abort');
    expect((await jl.getJob(job.id)).state).toBe('cancelled');
    expect(w.stats.rejected).toBe(0); // settled: no outcome was even sent
    await w.stop();
  });

  it('wakeups: "nats" without a NATS URL is refused with the field named', async () => {
    await expect(
      Jobline.connect({ databaseUrl: direct, natsUrl: '', wakeups: 'nats', migrate: false, logger: quietLogger() }),
    ).rejects.toThrow(/wakeups/);
  });
});
