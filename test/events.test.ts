/**
 * Status events end to end against the real NATS (DESIGN §5): every job and DAG transition
 * reaches the stream once with a valid CloudEvents envelope, in each job's database order; the
 * subscriber helper, filters, tailEvents, stream setup, the relay lease, and the backlog alert
 * while NATS is unreachable. Each test uses a stream and subject prefix of its own.
 */
import { randomBytes } from 'node:crypto';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import pino from 'pino';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { jetstream } from '@nats-io/jetstream';
import {
  DagEventSchemas,
  JobEventSchemas,
  JoblineEventSchema,
  eventName,
  isJobEvent,
  subscribe,
  type JoblineEvent,
} from '@jobline/contracts';
import { ValidationError, type Worker } from '@jobline/core';
import type { EventsOptions } from '@jobline/core/events';
import { freePort } from '@jobline/embedded';
import { auditEvents } from './helpers/events-audit.js';
import { openTestDb, waitFor, type TestDb } from './helpers/db.js';
import { isCI } from './helpers/ci.js';
import { startWorkerProcess, stopAll, type WorkerProcess } from './helpers/processes.js';
// @ts-expect-error plain ESM helper without types
import { deleteStream, natsAvailable, readStream, streamInfo } from './fixtures/events-nats.mjs';
import { internals } from '@jobline/core/internal';

const natsUrl = inject('natsUrl');
const natsUp = await natsAvailable(natsUrl);
if (!natsUp && isCI()) throw new Error(`CI=${process.env.CI} and NATS is not reachable at ${natsUrl}: event tests must not be skipped`);

type StreamMsg = { seq: number; subject: string; msgId: string; contentType: string; event: JoblineEvent };

const streams: string[] = [];
/** Events options with a stream and subject prefix no other test uses. */
function eventsOptions(over: EventsOptions = {}): Required<Pick<EventsOptions, 'stream' | 'subjectPrefix'>> & EventsOptions {
  const id = randomBytes(4).toString('hex');
  const o = { stream: `EVT_${id}`, subjectPrefix: `evt_${id}`, leaseTtlMs: 1000, pollIntervalMs: 20, ...over };
  streams.push(o.stream);
  return o;
}

const outboxEmpty = (db: TestDb) => async () => (await db.sql(`select count(*)::int as n from "${db.schema}".events`))[0].n === 0;
const sleepHandler = (ms: number) => (_: unknown, ctx: { signal: AbortSignal }) =>
  new Promise((resolve, reject) => {
    const t = setTimeout(() => resolve({ slept: ms }), ms);
    ctx.signal.addEventListener('abort', () => (clearTimeout(t), reject(ctx.signal.reason)), { once: true });
  });
// No rescue of a live worker by construction: its exact event sequences assume one attempt per job,
// and a heartbeat delayed past a short staleAfterMs on a loaded machine would (legitimately) add one.
// The dead worker of the "rescued" job is backdated an hour, so it is stale under this setting too.
const fast = {
  pollIntervalMs: 50,
  promoteIntervalMs: 20,
  rescueIntervalMs: 50,
  heartbeatIntervalMs: 100,
  staleAfterMs: 600_000,
  leaseTtlMs: 300,
  backoff: { baseMs: 10, maxMs: 50, jitter: 0 },
};

afterAll(async () => {
  if (natsUp) for (const s of streams) await deleteStream(natsUrl, s);
});

describe.skipIf(!natsUp)('job and DAG events through the relay', () => {
  let db: TestDb;
  let ev: ReturnType<typeof eventsOptions>;
  let worker: Worker;
  let msgs: StreamMsg[];
  const ids: Record<string, number> = {};
  const procs: WorkerProcess[] = [];

  beforeAll(async () => {
    ev = eventsOptions();
    db = await openTestDb({ natsUrl, events: ev });
    await auditEvents(db);
    const s = `"${db.schema}"`;
    await db.sql(`insert into ${s}.queues (name, emit_events) values ('quiet', '{completed}')`);

    // Rescued: a real worker process claims a long job and is SIGKILLed; its heartbeat is backdated.
    const proc = await startWorkerProcess({
      DATABASE_URL: db.url,
      JOBLINE_SCHEMA: db.schema,
      QUEUES: 'r',
      NATS_URL: '',
      WORKER_OPTIONS: JSON.stringify({ maintenance: false }),
    });
    procs.push(proc);
    ids.rescued = (await db.jl.enqueue({ queue: 'r', name: 'sleep', input: { ms: 60_000 } })).id;
    await waitFor(async () => (await db.jl.getJob(ids.rescued)).state === 'running', 20_000, 'the process to claim');
    await stopAll(procs);
    await db.sql(`update ${s}.workers set heartbeat_at = now() - interval '1 hour' where id = $1`, [proc.id]);

    worker = db.jl.worker({
      ...fast,
      queues: ['q', 'r', 'quiet'],
      concurrency: 20,
      handlers: {
        noop: async (input) => input ?? null,
        fail: async () => {
          throw Object.assign(new Error('boom'), { code: 'E_BOOM' });
        },
        sleep: async () => ({ rescuedRun: true }),
        big: async () => ({ blob: 'x'.repeat(10_000) }),
        nulls: async () => ({ a: null, b: [null, 1] }),
      },
    });
    await worker.start();
    const traceparent = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';
    ids.ok = (await db.jl.enqueue({ queue: 'q', name: 'noop', input: { hello: 'world' }, traceparent })).id;
    ids.fail = (await db.jl.enqueue({ queue: 'q', name: 'fail', maxAttempts: 2 })).id;
    ids.big = (await db.jl.enqueue({ queue: 'q', name: 'big' })).id;
    ids.nulls = (await db.jl.enqueue({ queue: 'q', name: 'nulls' })).id;
    ids.quiet = (await db.jl.enqueue({ queue: 'quiet', name: 'noop' })).id;
    ids.cancelled = (await db.jl.enqueue({ queue: 'parked', name: 'noop' })).id;
    await db.jl.cancel(ids.cancelled);
    const dag = await db.jl.submitDag({
      name: 'pair',
      nodes: [
        { key: 'a', queue: 'q', name: 'noop' },
        { key: 'b', queue: 'q', name: 'noop', dependsOn: ['a'] },
      ],
    });
    ids.dag = dag.id;

    const terminal = ['completed', 'failed', 'cancelled'];
    for (const id of [ids.ok, ids.fail, ids.big, ids.nulls, ids.quiet, ids.rescued]) {
      await waitFor(async () => terminal.includes((await db.jl.getJob(id)).state), 30_000, `job ${id} to finish`);
    }
    await waitFor(async () => (await db.jl.getDag(ids.dag)).state === 'succeeded', 30_000, 'the DAG to succeed');
    await waitFor(outboxEmpty(db), 30_000, 'the relay to drain the outbox');
    msgs = await readStream(natsUrl, ev.stream);
  });
  afterAll(async () => {
    await stopAll(procs);
    await db?.close();
  });

  it('publishes every outbox row exactly once, with Nats-Msg-Id = event id', async () => {
    const audit = await db.sql(`select id from "${db.schema}".events_audit order by id`);
    expect(audit.length).toBeGreaterThan(20);
    expect(msgs.map((m) => Number(m.event.id)).sort((a, b) => a - b)).toEqual(audit.map((r) => Number(r.id)));
    for (const m of msgs) {
      expect(m.msgId).toBe(m.event.id);
      expect(m.contentType).toBe('application/cloudevents+json');
    }
    expect(worker.relay!.stats.published).toBe(audit.length);
    expect(worker.relay!.stats.leader).toBe(true);
  });

  it('gives every event a valid CloudEvents envelope (per-type contracts schema) on its DESIGN subject', () => {
    for (const { event, subject } of msgs) {
      expect(JoblineEventSchema.safeParse(event).error).toBeUndefined();
      const name = eventName(event);
      if (isJobEvent(event)) {
        const parsed = JobEventSchemas[name as keyof typeof JobEventSchemas].parse(event);
        expect(subject).toBe(`${ev.subjectPrefix}.job.${parsed.data.queue}.${name}.${parsed.data.jobId}`);
        expect(parsed.subject).toBe(String(parsed.data.jobId));
      } else {
        const parsed = DagEventSchemas[name as keyof typeof DagEventSchemas].parse(event);
        expect(subject).toBe(`${ev.subjectPrefix}.dag.${name}.${parsed.data.dagRunId}`);
        expect(parsed.subject).toBe(String(ids.dag));
      }
      expect(event.source).toBe(`/jobline/${db.schema}`);
    }
    const names = new Set(msgs.map((m) => eventName(m.event)));
    for (const n of [
      'enqueued',
      'started',
      'completed',
      'failed',
      'retrying',
      'cancelled',
      'rescued',
      'run_created',
      'node_ready',
      'node_succeeded',
      'run_succeeded',
    ]) {
      expect(names, n).toContain(n);
    }
  });

  it("delivers each job's events in the database's transition order, matching its lifecycle", async () => {
    const audit = await db.sql(
      `select job_id, type from "${db.schema}".events_audit where job_id is not null and type like 'dev.jobline.job.%' order by id`,
    );
    const dbOrder = new Map<number, string[]>();
    for (const r of audit) dbOrder.set(Number(r.job_id), [...(dbOrder.get(Number(r.job_id)) ?? []), r.type.split('.').pop()]);
    const streamOrder = new Map<number, string[]>();
    for (const { event } of msgs) {
      if (!isJobEvent(event)) continue;
      streamOrder.set(event.data.jobId, [...(streamOrder.get(event.data.jobId) ?? []), eventName(event)]);
    }
    expect(streamOrder).toEqual(dbOrder);
    expect(streamOrder.get(ids.ok)).toEqual(['enqueued', 'started', 'completed']);
    expect(streamOrder.get(ids.fail)).toEqual(['enqueued', 'started', 'retrying', 'started', 'failed']);
    expect(streamOrder.get(ids.rescued)).toEqual(['enqueued', 'started', 'rescued', 'started', 'completed']);
    expect(streamOrder.get(ids.cancelled)).toEqual(['enqueued', 'cancelled']);
    // Per-queue opt-out: the quiet queue emits only `completed`.
    expect(streamOrder.get(ids.quiet)).toEqual(['completed']);
    const dagEvents = msgs.filter((m) => !isJobEvent(m.event)).map((m) => eventName(m.event));
    expect(dagEvents[0]).toBe('run_created');
    expect(dagEvents.at(-1)).toBe('run_succeeded');
  });

  it('carries attempts, timings, output or error summary, and the traceparent', () => {
    const of = (id: number, name: string) =>
      msgs.map((m) => m.event).find((e) => isJobEvent(e) && e.data.jobId === id && eventName(e) === name)!;
    const ok = of(ids.ok, 'completed');
    if (!isJobEvent(ok)) throw new Error('not a job event');
    expect(ok.traceparent).toBe('00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01');
    expect(ok.data).toMatchObject({
      queue: 'q',
      name: 'noop',
      state: 'completed',
      attempt: 1,
      output: { hello: 'world' },
      workerId: worker.id,
    });
    expect(ok.data.durationMs).toBeGreaterThanOrEqual(0);
    expect(ok.data.startedAt && ok.data.finishedAt).toBeTruthy();
    expect(of(ids.fail, 'failed').data).toMatchObject({
      state: 'failed',
      attempt: 2,
      maxAttempts: 2,
      error: { message: 'boom', code: 'E_BOOM' },
    });
    expect(of(ids.fail, 'retrying').data).toMatchObject({ state: 'retryable', attempt: 1, error: { message: 'boom' } });
    expect(of(ids.big, 'completed').data).toMatchObject({ output: { truncated: true } });
    expect(of(ids.nulls, 'completed').data).toMatchObject({ output: { a: null, b: [null, 1] } });
    expect(of(ids.rescued, 'rescued').data).toMatchObject({ attempt: 1 });
    expect(of(ids.ok, 'enqueued').traceparent).toBe(ok.traceparent);
    expect(of(ids.fail, 'enqueued').traceparent).toBeUndefined();
  });

  describe('subscriber helper', () => {
    let nc: NatsConnection;
    beforeAll(async () => {
      nc = await connect({ servers: natsUrl });
    });
    afterAll(() => nc?.close());

    const collect = async (filter: Parameters<typeof subscribe>[0]['filter'], expected: number) => {
      const got: JoblineEvent[] = [];
      const sub = await subscribe({
        nc,
        durable: `d_${randomBytes(3).toString('hex')}`,
        stream: ev.stream,
        subjectPrefix: ev.subjectPrefix,
        filter,
        handler: (e) => void got.push(e),
      });
      await waitFor(() => got.length >= expected, 20_000, `${expected} events for ${JSON.stringify(filter)}`);
      await new Promise((r) => setTimeout(r, 200)); // nothing beyond the expected ones arrives
      await sub.stop();
      return got;
    };

    it('filters by queue, event and job id through the subject alone', async () => {
      const completedInQ = msgs.filter((m) => isJobEvent(m.event) && m.event.data.queue === 'q' && eventName(m.event) === 'completed');
      const got = await collect({ queue: 'q', event: 'completed' }, completedInQ.length);
      expect(got.map((e) => e.id)).toEqual(completedInQ.map((m) => m.event.id));

      const one = await collect({ jobId: ids.fail }, 5);
      expect(one.map(eventName)).toEqual(['enqueued', 'started', 'retrying', 'started', 'failed']);

      const dag = await collect({ dagRunId: ids.dag }, msgs.filter((m) => !isJobEvent(m.event)).length);
      expect(dag.every((e) => !isJobEvent(e))).toBe(true);
    });

    it('acks only after the handler succeeds: a throwing handler sees the event again, each event succeeds once', async () => {
      const want = msgs.filter((m) => isJobEvent(m.event) && m.event.data.jobId === ids.ok).map((m) => m.event.id);
      const calls: string[] = [];
      const handled: string[] = [];
      let thrown = false;
      const sub = await subscribe({
        nc,
        durable: 'retry_once',
        stream: ev.stream,
        subjectPrefix: ev.subjectPrefix,
        filter: { jobId: ids.ok },
        retryDelayMs: 50,
        handler: (e) => {
          calls.push(e.id);
          if (!thrown && eventName(e) === 'started') {
            thrown = true;
            throw new Error('handler crashed before ack');
          }
          handled.push(e.id);
        },
      });
      await waitFor(() => handled.length === want.length, 20_000, 'every event handled');
      await sub.stop();
      expect(handled.slice().sort()).toEqual(want.slice().sort());
      expect(calls.length).toBe(want.length + 1);
      expect(sub.stats).toMatchObject({ failed: 1, handled: want.length, duplicates: 0 });
    });

    it('dedups by event id: a re-published event (new msg id) is acked without calling the handler', async () => {
      const js = jetstream(nc);
      const original = msgs.find((m) => isJobEvent(m.event) && m.event.data.jobId === ids.nulls && eventName(m.event) === 'completed')!;
      await js.publish(original.subject, JSON.stringify(original.event), { msgID: `replay-${original.event.id}` });
      const handled: string[] = [];
      const sub = await subscribe({
        nc,
        durable: 'dedupe',
        stream: ev.stream,
        subjectPrefix: ev.subjectPrefix,
        filter: { jobId: ids.nulls },
        handler: (e) => void handled.push(e.id),
      });
      await waitFor(() => sub.stats.duplicates === 1, 20_000, 'the replayed event to be seen');
      await sub.stop();
      expect(handled.length).toBe(new Set(handled).size);
      expect(handled).toContain(original.event.id);
    });

    it('refuses to reuse a durable name with a different filter', async () => {
      // A durable of its own (it used the dedup test's, so it passed only after that test, and
      // when it ran first it created that durable with the wrong filter and failed the dedup test).
      const durable = `refuse_${randomBytes(3).toString('hex')}`;
      const first = await subscribe({
        nc,
        durable,
        stream: ev.stream,
        subjectPrefix: ev.subjectPrefix,
        filter: { jobId: ids.nulls },
        handler: () => {},
      });
      await first.stop();
      await expect(
        subscribe({ nc, durable, stream: ev.stream, subjectPrefix: ev.subjectPrefix, filter: { queue: 'q' }, handler: () => {} }),
      ).rejects.toThrow(/filters/);
    });
  });

  it('tailEvents yields live events from NATS, filtered', async () => {
    const ac = new AbortController();
    const got: JoblineEvent[] = [];
    let ready!: () => void;
    const listening = new Promise<void>((r) => (ready = r));
    const tail = (async () => {
      for await (const e of db.jl.tailEvents({ queue: 'q', signal: ac.signal, onReady: ready })) {
        got.push(e);
        if (got.length === 3) ac.abort();
      }
    })();
    await Promise.race([listening, tail]); // the tail's consumer starts at "new": enqueue once it exists
    const job = await db.jl.enqueue({ queue: 'q', name: 'noop', input: 1 });
    await db.jl.enqueue({ queue: 'quiet', name: 'noop' }); // another queue: filtered out
    await tail;
    expect(got.map((e) => [eventName(e), e.subject])).toEqual([
      ['enqueued', String(job.id)],
      ['started', String(job.id)],
      ['completed', String(job.id)],
    ]);
  });
});

describe.skipIf(!natsUp)('relay lease, stream setup, backlog', () => {
  it('runs one relay at a time across instances and hands over when the leader stops', async () => {
    const ev = eventsOptions({ leaseTtlMs: 500 });
    const db = await openTestDb({ natsUrl, events: ev });
    try {
      const relays = ['a', 'b', 'c'].map((h) => db.jl.relay(h).start());
      let maxLeaders = 0;
      const sample = setInterval(() => (maxLeaders = Math.max(maxLeaders, relays.filter((r) => r.isLeader).length)), 5);
      const first = await waitFor(() => relays.find((r) => r.isLeader), 10_000, 'a leader');
      await first.stop();
      const second = await waitFor(() => relays.find((r) => r.isLeader), 10_000, 'a new leader');
      expect(second).not.toBe(first);
      const job = await db.jl.enqueue({ queue: 'q', name: 'x' });
      await waitFor(outboxEmpty(db), 10_000, 'the new leader to publish');
      clearInterval(sample);
      expect(maxLeaders).toBe(1);
      const msgs: StreamMsg[] = await readStream(natsUrl, ev.stream);
      expect(msgs.map((m) => m.event.subject)).toEqual([String(job.id)]);
      expect(second.stats.published).toBe(1);
    } finally {
      await db.close();
    }
  });

  it('creates the stream with file storage and the duplicate window, and updates changed settings', async () => {
    const ev = eventsOptions({ duplicateWindowMs: 90_000, maxAgeMs: 3_600_000 });
    const db = await openTestDb({ natsUrl, events: ev });
    try {
      const r1 = db.jl.relay('one').start();
      await waitFor(async () => r1.stats.connected && (await streamInfo(natsUrl, ev.stream).catch(() => undefined)), 10_000, 'the stream');
      let info = await streamInfo(natsUrl, ev.stream);
      expect(info.config).toMatchObject({
        subjects: [`${ev.subjectPrefix}.>`],
        storage: 'file',
        duplicate_window: 90_000 * 1e6,
        max_age: 3_600_000 * 1e6,
        num_replicas: 1,
      });
      await r1.stop();
      await db.jl.close();
      const db2 = await openTestDb({ natsUrl, events: { ...ev, duplicateWindowMs: 150_000 } });
      const r2 = db2.jl.relay('two').start();
      await waitFor(async () => (await streamInfo(natsUrl, ev.stream)).config.duplicate_window === 150_000 * 1e6, 10_000, 'the update');
      info = await streamInfo(natsUrl, ev.stream);
      expect(info.config.storage).toBe('file');
      await r2.stop();
      await db2.close();
    } finally {
      await db.close();
    }
  });

  it('recreates the stream when it disappears under a running relay, and loses nothing', async () => {
    const ev = eventsOptions();
    const db = await openTestDb({ natsUrl, events: ev });
    try {
      await auditEvents(db);
      const r = db.jl.relay('one').start();
      await db.jl.enqueue({ queue: 'q', name: 'before' });
      await waitFor(outboxEmpty(db), 10_000, 'the first event');
      await deleteStream(natsUrl, ev.stream);
      const after = await db.jl.enqueueMany([
        { queue: 'q', name: 'after' },
        { queue: 'q', name: 'after' },
      ]);
      await waitFor(outboxEmpty(db), 20_000, 'events after the stream was deleted');
      expect(r.stats.publishErrors).toBeGreaterThan(0); // the first try found no stream (503 no responders)
      const msgs: StreamMsg[] = await readStream(natsUrl, ev.stream);
      expect(msgs.map((m) => m.event.subject)).toEqual(after.map((j) => String(j.id)));
    } finally {
      await db.close();
    }
  });

  it('NATS unreachable: jobs still finish, events wait in the outbox, the backlog metric grows and the alert is logged', async () => {
    const lines: { level: number; msg: string; backlog?: number }[] = [];
    const sink = new Writable({ write: (chunk, _enc, cb) => (lines.push(JSON.parse(String(chunk))), cb()) });
    const dead = `nats://127.0.0.1:${await freePort()}`;
    const db = await openTestDb({
      natsUrl: dead,
      events: eventsOptions({ backlogAlertThreshold: 50, backlogIntervalMs: 100 }),
      logger: pino({ level: 'info' }, sink),
    });
    try {
      await auditEvents(db);
      const w = db.jl.worker({ ...fast, queues: ['q'], concurrency: 50, handlers: { noop: async () => null } });
      await w.start();
      const jobs = await db.jl.enqueueMany(Array.from({ length: 100 }, () => ({ queue: 'q', name: 'noop' })));
      await waitFor(
        async () => (await db.jl.listJobs({ queue: 'q', state: 'completed', limit: 200 })).jobs.length === jobs.length,
        20_000,
        'jobs to finish without NATS',
      );
      await waitFor(() => w.relay!.backlog >= 300, 10_000, 'the backlog metric');
      expect(w.relay!.stats).toMatchObject({ leader: true, connected: false, published: 0 });
      await waitFor(() => lines.some((l) => l.level === 40 && /alert threshold/.test(l.msg)), 10_000, 'the alert log line');
      const alert = lines.find((l) => /alert threshold/.test(l.msg))!;
      expect(alert.backlog).toBeGreaterThanOrEqual(50);
      const [{ n }] = await db.sql(`select count(*)::int as n from "${db.schema}".events`);
      const [{ a }] = await db.sql(`select count(*)::int as a from "${db.schema}".events_audit`);
      expect(n).toBe(a); // nothing dropped
      expect(n).toBe(300);
    } finally {
      await db.close();
    }
  });

  it('tailEvents reads the outbox when NATS is not configured, and rejects impossible filters', async () => {
    const db = await openTestDb({ natsUrl: '' });
    try {
      expect(internals(db.jl).natsUrl).toBeUndefined();
      await expect(db.jl.tailEvents({ queue: 'q', event: 'run_failed' }).next()).rejects.toBeInstanceOf(ValidationError);
      const before = await db.jl.enqueue({ queue: 'other', name: 'x' });
      const ac = new AbortController();
      const got: JoblineEvent[] = [];
      let ready!: () => void;
      const listening = new Promise<void>((r) => (ready = r));
      const tail = (async () => {
        for await (const e of db.jl.tailEvents({ queue: 'q', signal: ac.signal, pollIntervalMs: 20, onReady: ready })) {
          got.push(e);
          if (got.length === 2) ac.abort();
        }
      })();
      await Promise.race([listening, tail]); // "new" = after the outbox cursor it read
      const a = await db.jl.enqueue({ queue: 'q', name: 'x' });
      await db.jl.enqueue({ queue: 'other', name: 'x' });
      const b = await db.jl.enqueue({ queue: 'q', name: 'y' });
      await tail;
      expect(got.map((e) => [e.type, e.subject])).toEqual([
        ['dev.jobline.job.enqueued', String(a.id)],
        ['dev.jobline.job.enqueued', String(b.id)],
      ]);
      const all: JoblineEvent[] = [];
      const ac2 = new AbortController();
      for await (const e of db.jl.tailEvents({ from: 'all', signal: ac2.signal })) {
        all.push(e);
        if (all.length === 4) ac2.abort();
      }
      expect(all[0].subject).toBe(String(before.id));
      expect(all.every((e) => JoblineEventSchema.safeParse(e).success)).toBe(true);
    } finally {
      await db.close();
    }
  });
});
