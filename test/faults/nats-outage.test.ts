/**
 * Scenario 4: NATS gone mid-run and back, then the relay leader SIGKILLed while it drains the
 * backlog. Three worker processes (each may lead the relay) run jobs enqueued continuously; a
 * nats-server of the scenario's own (own port, own store) is stopped for 30 s (3 s reduced) and
 * restarted; once the relay is publishing the backlog, its process is killed and replaced.
 * Invariants: every job completed exactly once; every outbox row on the stream exactly once;
 * each job's events in the order of its transitions. Measured: outage, peak outbox backlog,
 * relay takeover and the time to drain after NATS returned.
 */
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { afterAll, expect, it } from 'vitest';
import { isJobEvent, type JoblineEvent } from '@jobline/contracts';
import { freePort } from '@jobline/embedded';
import { auditEvents } from '../helpers/events-audit.js';
import { openTestDb, waitFor, type TestDb } from '../helpers/db.js';
import { startWorkerProcess, stopAll, type WorkerProcess } from '../helpers/processes.js';
// @ts-expect-error plain ESM helper without types
import { ownNatsServer, readStream } from '../fixtures/events-nats.mjs';
import { checkEvents, checkJobs, scale, summaryTable } from './checker.js';
import { internals } from '@jobline/core/internal';

const FIXTURE = fileURLToPath(new URL('../fixtures/events-worker.mjs', import.meta.url));
const WORKER_OPTIONS = JSON.stringify({
  pollIntervalMs: 50,
  heartbeatIntervalMs: 300,
  staleAfterMs: 1500,
  leaseTtlMs: 1000,
  rescueIntervalMs: 250,
  promoteIntervalMs: 100,
});
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

let db: TestDb | undefined;
let nats: { url: string; start(): Promise<void>; stop(): Promise<void>; dispose(): Promise<void> } | undefined;
const procs: WorkerProcess[] = [];
afterAll(async () => {
  await stopAll(procs);
  await db?.close();
  await nats?.dispose();
});

it('NATS down mid-run and back, relay leader SIGKILLed mid-drain: every job once, every event once and in order', async () => {
  const total = scale(4_000, 20_000);
  const outageMs = scale(3_000, 30_000);
  nats = ownNatsServer(await freePort());
  await nats!.start();
  const id = randomBytes(4).toString('hex');
  const events = { stream: `FLT_${id}`, subjectPrefix: `flt_${id}`, leaseTtlMs: 1000, pollIntervalMs: 20, backlogIntervalMs: 200 };
  db = await openTestDb({ natsUrl: nats!.url, events });
  const S = `"${db.schema}"`;
  await auditEvents(db); // every outbox row ever written, kept after the relay deletes it

  const env = {
    DATABASE_URL: db.url,
    JOBLINE_SCHEMA: db.schema,
    NATS_URL: nats!.url,
    EVENTS: JSON.stringify(events),
    QUEUES: 'nats',
    CONCURRENCY: '50',
    WORKER_OPTIONS,
  };
  const live: WorkerProcess[] = [];
  const spawnOne = async () => {
    const p = await startWorkerProcess(env, FIXTURE);
    procs.push(p);
    live.push(p);
  };
  await Promise.all([spawnOne(), spawnOne(), spawnOne()]);

  // The producer: batches of 100 every 50 ms until `total`, through the whole scenario.
  const ids: number[] = [];
  const producing = (async () => {
    while (ids.length < total) {
      const n = Math.min(100, total - ids.length);
      const jobs = await db!.jl.enqueueMany(
        Array.from({ length: n }, (_, i) => ({ queue: 'nats', name: 'noop', input: { i: ids.length + i } })),
      );
      ids.push(...jobs.map((j) => j.id));
      await sleep(50);
    }
  })();
  const outbox = async () => (await db!.sql(`select count(*)::int as n from ${S}.events`))[0].n as number;
  const relayHolder = async () =>
    (await db!.sql(`select holder from ${S}.leases where name = 'relay' and expires_at > now()`))[0]?.holder as string | undefined;

  // 1. Events flow, then NATS goes away for the outage while jobs keep running.
  await waitFor(
    async () => ids.length >= total / 4 && (await db!.sql(`select count(*)::int as n from ${S}.events_audit`))[0].n > (await outbox()),
    60_000,
    'events to be relayed',
  );
  await nats!.stop();
  const downAt = Date.now();
  let peakBacklog = 0;
  while (Date.now() - downAt < outageMs) {
    peakBacklog = Math.max(peakBacklog, await outbox());
    await sleep(200);
  }
  peakBacklog = Math.max(peakBacklog, await outbox());
  expect(peakBacklog).toBeGreaterThan(0);
  const upAt = Date.now();
  await nats!.start();

  // 2. Once the relay is draining the backlog, SIGKILL its process (mid-batch) and replace it.
  const before = await outbox();
  await waitFor(async () => (await outbox()) < before, 60_000, 'the relay to drain after NATS returned');
  const leader = await waitFor(relayHolder, 20_000, 'a relay leader');
  const victim = live.find((p) => p.id === leader);
  expect(victim, `relay leader ${leader} is one of the worker processes`).toBeDefined();
  victim!.child.kill('SIGKILL');
  await victim!.exited;
  live.splice(live.indexOf(victim!), 1);
  const killedAt = Date.now();
  await spawnOne();
  const next = await waitFor(
    async () => {
      const h = await relayHolder();
      return h && h !== leader ? h : undefined;
    },
    30_000,
    'another relay leader',
  );
  const takeoverMs = Date.now() - killedAt;

  // 3. Everything finishes: the jobs, then the outbox.
  await producing;
  await waitFor(
    async () =>
      (await db!.sql(`select count(*)::int as n from ${S}.jobs where state not in ('completed','failed','cancelled')`))[0].n === 0,
    scale(60_000, 180_000),
    'every job to finish',
  );
  await waitFor(async () => (await outbox()) === 0, scale(60_000, 180_000), 'the outbox to drain');
  const drainedMs = Date.now() - upAt;
  await stopAll(live, 'SIGTERM');

  const written = (await db.sql(`select id, job_id from ${S}.events_audit order by id`)).map((r) => ({
    id: Number(r.id),
    jobId: r.job_id === null ? null : Number(r.job_id),
  }));
  const msgs: { msgId: string; event: JoblineEvent }[] = await readStream(nats!.url, events.stream);
  for (const m of msgs) expect(m.msgId).toBe(m.event.id);
  const e = checkEvents(
    written,
    msgs.map((m) => ({ id: Number(m.event.id), jobId: isJobEvent(m.event) ? m.event.data.jobId : undefined })),
  );
  const v = await checkJobs(internals(db.jl).pool, db.schema, ids);
  summaryTable(`NATS outage ${outageMs / 1000} s + relay leader SIGKILL: ${total} jobs, 3 workers`, v, {
    'events written': e.written,
    'events on the stream': e.delivered,
    'events missing': e.missing,
    'events duplicated': e.duplicated,
    'events out of per-job order': e.outOfOrder,
    'peak outbox backlog': peakBacklog,
    'relay takeover after SIGKILL (ms)': takeoverMs,
    'NATS back → outbox empty (ms)': drainedMs,
    'new relay leader': next,
  });
  expect(v.lost + v.missingRows).toBe(0);
  expect(v.duplicated).toBe(0);
  expect(v.completedOnce).toBe(total);
  // enqueued, started, completed per job; the killed process's running jobs add rescued + started.
  expect(e.written).toBeGreaterThanOrEqual(total * 3);
  expect(e.missing).toBe(0);
  expect(e.duplicated).toBe(0);
  expect(e.unknown).toBe(0);
  expect(e.outOfOrder).toBe(0);
});
