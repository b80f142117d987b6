/**
 * Issue 13 item 4: network faults through a proxy the scenario controls (tcp-proxy.ts), for
 * PostgreSQL and for NATS. Workers must neither hang forever nor double-complete:
 *   - latency 50–200 ms (re-drawn every 500 ms) on every PostgreSQL connection during a drain
 *   - half-open: every connection cut, then new ones accepted and never answered for a while —
 *     the connect timeout ends each attempt, the workers back off and resume afterwards
 *   - a 10 s partition of one worker (its own proxy): nothing flows, its heartbeat stops, its
 *     jobs are rescued and completed by another worker, and once the partition heals its late
 *     completions are rejected by the fence (counted), never applied
 *   - NATS through a proxy: latency, a half-open server and a 10 s partition while the relay
 *     publishes; every outbox event reaches the stream exactly once and in per-job order
 * Timeouts in force (env of the worker processes): statement 2 s (client query_timeout 7 s),
 * connect 2 s, TCP keepalive after 10 s, LISTEN ping every 10 s.
 */
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isJobEvent, type JoblineEvent } from '@jobline/contracts';
import { freePort } from '../helpers/pgbouncer.js';
import { auditEvents } from '../helpers/events-audit.js';
import { openTestDb, waitFor, type TestDb } from '../helpers/db.js';
import { startWorkerProcess, stopAll, type WorkerProcess } from '../helpers/processes.js';
// @ts-expect-error plain ESM helper without types
import { ownNatsServer, readStream } from '../fixtures/events-nats.mjs';
import { checkEvents, checkJobs, scale, summaryTable } from './checker.js';
import { TcpProxy } from './tcp-proxy.js';
import { internals } from '@jobline/core/internal';

const EVENTS_FIXTURE = fileURLToPath(new URL('../fixtures/events-worker.mjs', import.meta.url));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const TIMEOUTS = { JOBLINE_STATEMENT_TIMEOUT_MS: '2000', JOBLINE_CONNECT_TIMEOUT_MS: '2000' };
const FAST = {
  pollIntervalMs: 200,
  heartbeatIntervalMs: 300,
  staleAfterMs: 3000,
  leaseTtlMs: 1000,
  rescueIntervalMs: 250,
  promoteIntervalMs: 100,
  backoff: { baseMs: 50, maxMs: 500 },
};

let db: TestDb;
const procs: WorkerProcess[] = [];
const proxies: TcpProxy[] = [];
beforeAll(async () => {
  db = await openTestDb();
});
afterAll(async () => {
  await stopAll(procs);
  for (const p of proxies) await p.stop();
  await db?.close();
});

async function pgProxy(): Promise<{ proxy: TcpProxy; url: string }> {
  const target = new URL(db.url);
  const proxy = new TcpProxy(target.hostname, Number(target.port || 5432));
  await proxy.start();
  proxies.push(proxy);
  const url = new URL(db.url);
  url.host = proxy.url;
  return { proxy, url: url.toString() };
}

const S = () => `"${db.schema}"`;
const count = async (where: string, queue: string) =>
  Number((await db.sql(`select count(*)::int as n from ${S()}.jobs where queue = $1 and ${where}`, [queue]))[0].n);
const statsOf = (p: WorkerProcess) => JSON.parse(/stats (\{.*\})/.exec(p.output())?.[1] ?? '{}');

describe('PostgreSQL through a faulty network', () => {
  it('latency 50–200 ms on every connection: a drain completes every job exactly once', async () => {
    const { proxy, url } = await pgProxy();
    const total = scale(1500, 10_000);
    const ids = (await db.jl.enqueueMany(Array.from({ length: total }, (_, i) => ({ queue: 'lat', name: 'noop', input: { i } })))).map(
      (j) => j.id,
    );
    let jitter = true;
    const jitterLoop = (async () => {
      while (jitter) {
        proxy.latencyMs = 50 + Math.floor(Math.random() * 151);
        await sleep(500);
      }
      proxy.latencyMs = 0;
    })();
    const env = {
      ...TIMEOUTS,
      DATABASE_URL: url,
      JOBLINE_SCHEMA: db.schema,
      QUEUES: 'lat',
      CONCURRENCY: '50',
      WORKER_OPTIONS: JSON.stringify(FAST),
    };
    const ws = await Promise.all([startWorkerProcess(env), startWorkerProcess(env)]);
    procs.push(...ws);
    const t0 = Date.now();
    await waitFor(async () => (await count(`state = 'completed'`, 'lat')) === total, 180_000, 'the drain under latency');
    const ms = Date.now() - t0;
    jitter = false;
    await jitterLoop;
    await stopAll(ws, 'SIGTERM');
    const v = await checkJobs(internals(db.jl).pool, db.schema, ids);
    summaryTable(`PostgreSQL latency 50–200 ms: ${total} jobs, 2 workers`, v, {
      'drain time': `${ms} ms`,
      'proxy connections accepted': proxy.accepted,
    });
    expect(await Promise.all(ws.map((w) => w.exited))).toEqual([0, 0]);
    expect(v.completedOnce).toBe(total);
    expect(v.lost + v.missingRows + v.duplicated).toBe(0);
  });

  it('half-open: open connections stop answering for good, new ones are accepted and never answered; workers neither hang nor double-complete, and resume', async () => {
    const { proxy, url } = await pgProxy();
    const env = {
      ...TIMEOUTS,
      DATABASE_URL: url,
      JOBLINE_SCHEMA: db.schema,
      QUEUES: 'half',
      CONCURRENCY: '20',
      WORKER_OPTIONS: JSON.stringify(FAST),
    };
    const ws = await Promise.all([startWorkerProcess(env), startWorkerProcess(env)]);
    procs.push(...ws);
    const ids: number[] = [];
    const add = async (n: number) =>
      ids.push(
        ...(await db.jl.enqueueMany(Array.from({ length: n }, (_, i) => ({ queue: 'half', name: 'noop', input: { i } })))).map((j) => j.id),
      );
    await add(200);
    await waitFor(async () => (await count(`state = 'completed'`, 'half')) === 200, 60_000, 'work before the fault');
    proxy.setMode('half-open');
    const frozen = proxy.connections;
    proxy.freeze();
    const acceptedBefore = proxy.accepted;
    await add(scale(500, 3000)); // enqueued directly while the workers cannot reach the database
    const halfOpenMs = scale(5000, 15_000);
    await sleep(halfOpenMs);
    // They kept trying (each attempt ended by the connect timeout), rather than hanging on one.
    const attempts = proxy.accepted - acceptedBefore;
    expect(attempts).toBeGreaterThan(2);
    proxy.setMode('pass');
    const healedAt = Date.now();
    await waitFor(async () => (await count(`state = 'completed'`, 'half')) === ids.length, 90_000, 'the workers to resume');
    const resumeMs = Date.now() - healedAt;
    // Every frozen connection was given up by its client (query timeout, LISTEN ping), none waited on forever.
    await waitFor(() => proxy.frozenOpen === 0, 60_000, 'the clients to abandon the frozen connections');
    await stopAll(ws, 'SIGTERM');
    const v = await checkJobs(internals(db.jl).pool, db.schema, ids);
    summaryTable(`PostgreSQL half-open for ${halfOpenMs / 1000} s: ${ids.length} jobs, 2 workers`, v, {
      'open connections frozen (abandoned by their clients)': frozen,
      'connection attempts answered by nobody': attempts,
      'healed → all completed': `${resumeMs} ms`,
    });
    expect(await Promise.all(ws.map((w) => w.exited))).toEqual([0, 0]);
    expect(v.completedOnce).toBe(ids.length);
    expect(v.lost + v.missingRows + v.duplicated).toBe(0);
  });

  it('a 10 s partition of one worker: its jobs are rescued and completed elsewhere, its late completions rejected', async () => {
    const { proxy, url } = await pgProxy();
    const n = 10;
    const opts = JSON.stringify(FAST);
    // The worker to be partitioned claims every job first (each runs 6 s).
    const victim = await startWorkerProcess({
      ...TIMEOUTS,
      DATABASE_URL: url,
      JOBLINE_SCHEMA: db.schema,
      QUEUES: 'part',
      CONCURRENCY: String(n),
      WORKER_OPTIONS: opts,
    });
    procs.push(victim);
    const ids = (
      await db.jl.enqueueMany(Array.from({ length: n }, () => ({ queue: 'part', name: 'sleep', input: { ms: 6000 }, maxAttempts: 5 })))
    ).map((j) => j.id);
    await waitFor(
      async () => (await count(`state = 'running' and worker_id = '${victim.id}'`, 'part')) === n,
      30_000,
      'the victim to claim every job',
    );
    proxy.setMode('partition');
    const partitionedAt = Date.now();
    // A healthy worker on a direct connection takes over the rescue (the lease) and the jobs.
    const rescuer = await startWorkerProcess({
      ...TIMEOUTS,
      DATABASE_URL: db.url,
      JOBLINE_SCHEMA: db.schema,
      QUEUES: 'part',
      CONCURRENCY: String(n),
      WORKER_OPTIONS: opts,
    });
    procs.push(rescuer);
    const rescuedAt = await waitFor(
      async () => {
        const [r] = await db.sql(`select count(*)::int as n from ${S()}.job_executions where job_id = any($1) and state = 'lost'`, [ids]);
        return r.n === n ? Date.now() : 0;
      },
      30_000,
      'the partitioned worker’s jobs to be rescued',
    );
    const partitionMs = 10_000;
    await sleep(Math.max(0, partitionedAt + partitionMs - Date.now()));
    proxy.setMode('pass');
    const healedAt = Date.now();
    await waitFor(async () => (await count(`state = 'completed'`, 'part')) === n, 60_000, 'the rescued jobs to complete');
    // The victim is alive and reaches the database again: its heartbeat returns.
    await waitFor(
      async () => {
        const [w] = await db.sql(`select heartbeat_at > to_timestamp($2 / 1000.0) as ok from ${S()}.workers where id = $1`, [
          victim.id,
          healedAt,
        ]);
        return w?.ok;
      },
      30_000,
      'the partitioned worker to heartbeat again',
    );
    await stopAll([victim, rescuer], 'SIGTERM');
    const exits = await Promise.all([victim.exited, rescuer.exited]);
    const vs = statsOf(victim);
    const v = await checkJobs(internals(db.jl).pool, db.schema, ids);
    const [done] = await db.sql(
      `select count(*) filter (where worker_id = $2)::int as by_rescuer, count(*)::int as n from ${S()}.job_executions where job_id = any($1) and state = 'completed'`,
      [ids, rescuer.id],
    );
    summaryTable(`PostgreSQL partition of one worker for ${partitionMs / 1000} s: ${n} jobs of 6 s`, v, {
      'partition → all rescued': `${rescuedAt - partitionedAt} ms`,
      'completions by the rescuer': done.by_rescuer,
      'late completions rejected (victim)': vs.rejected ?? 'n/a',
    });
    expect(exits).toEqual([0, 0]);
    expect(v.completedOnce).toBe(n);
    expect(v.lost + v.missingRows + v.duplicated).toBe(0);
    expect(v.rescuedAttempts).toBe(n);
    expect(done.by_rescuer).toBe(n);
    // The victim finished its handlers during the partition; the fence refused every one.
    expect(vs.rejected).toBe(n);
  });
});

describe('a claim whose reply is lost', () => {
  it('rows a claim committed for a live worker that never got the reply are released after the failed claim, then run once', async () => {
    const { proxy, url } = await pgProxy();
    const { Jobline } = await import('@jobline/core');
    const jl = await Jobline.connect({
      databaseUrl: url,
      schema: db.schema,
      migrate: false,
      natsUrl: '',
      logger: (await import('../helpers/db.js')).quietLogger(),
      connectTimeoutMs: 1000,
      statementTimeoutMs: 2000,
    });
    try {
      const w = jl.worker({ queues: ['orph'], concurrency: 4, ...FAST, pollIntervalMs: 100, handlers: { noop: async () => 'ok' } });
      await w.start();
      // The lost reply, as the failover produced it: the row says running under this live worker
      // at attempt 1, the worker never received it.
      const [job] = await db.jl.enqueueMany([{ queue: 'orph', name: 'noop', runAt: new Date(Date.now() + 3600_000) }]);
      await db.sql(
        `update ${S()}.jobs set state = 'running', attempt = 1, worker_id = $2, claimed_at = now(), started_at = now() where id = $1`,
        [job.id, w.id],
      );
      // A claim fails (connections cut, new ones unanswered past the 1 s connect timeout).
      const warned = new Promise<void>((r) => w.once('warning', () => r()));
      proxy.setMode('half-open');
      proxy.cut();
      await warned;
      proxy.setMode('pass');
      await waitFor(
        async () => (await count(`state = 'completed'`, 'orph')) === 1,
        30_000,
        'the orphaned job to be released and completed',
      );
      const hist = await db.sql(`select attempt, state, worker_id from ${S()}.job_executions where job_id = $1 order by attempt`, [job.id]);
      expect(hist.map((h) => [h.attempt, h.state])).toEqual([
        [1, 'released'],
        [2, 'completed'],
      ]);
      expect(w.stats.released).toBe(1);
      await w.stop();
    } finally {
      await jl.close();
    }
  });
});

describe('NATS through a faulty network', () => {
  let nats: { url: string; port: number; start(): Promise<void>; dispose(): Promise<void> } | undefined;
  afterAll(async () => {
    await nats?.dispose();
  });

  it('latency, half-open and a 10 s partition between the relay and NATS: every event on the stream once and in order', async () => {
    nats = ownNatsServer(await freePort());
    await nats!.start();
    const proxy = new TcpProxy('127.0.0.1', nats!.port);
    await proxy.start();
    proxies.push(proxy);
    const natsUrl = `nats://${proxy.url}`;
    const id = randomBytes(4).toString('hex');
    const events = { stream: `NET_${id}`, subjectPrefix: `net_${id}`, leaseTtlMs: 1000, pollIntervalMs: 20, publishTimeoutMs: 2000 };
    const edb = await openTestDb({ natsUrl, events });
    try {
      const ES = `"${edb.schema}"`;
      await auditEvents(edb);
      const env = {
        ...TIMEOUTS,
        DATABASE_URL: edb.url,
        JOBLINE_SCHEMA: edb.schema,
        NATS_URL: natsUrl,
        EVENTS: JSON.stringify(events),
        QUEUES: 'nq',
        CONCURRENCY: '20',
        WORKER_OPTIONS: JSON.stringify(FAST),
      };
      const ws = await Promise.all([startWorkerProcess(env, EVENTS_FIXTURE), startWorkerProcess(env, EVENTS_FIXTURE)]);
      procs.push(...ws);
      const ids: number[] = [];
      const add = async (k: number) =>
        ids.push(
          ...(await edb.jl.enqueueMany(Array.from({ length: k }, (_, i) => ({ queue: 'nq', name: 'noop', input: { i } })))).map(
            (j) => j.id,
          ),
        );
      const outbox = async () => Number((await edb.sql(`select count(*)::int as n from ${ES}.events`))[0].n);
      const phase = scale(300, 2000);

      proxy.latencyMs = 150;
      await add(phase);
      await sleep(2000);
      proxy.latencyMs = 0;

      proxy.setMode('half-open');
      proxy.cut();
      await add(phase);
      await sleep(scale(4000, 10_000));
      proxy.setMode('pass');

      await waitFor(async () => (await outbox()) === 0, 60_000, 'the relay to catch up after half-open');
      await add(phase);
      proxy.setMode('partition');
      await add(phase);
      await sleep(10_000);
      proxy.setMode('pass');

      await waitFor(
        async () => Number((await edb.sql(`select count(*)::int as n from ${ES}.jobs where state <> 'completed'`))[0].n) === 0,
        90_000,
        'every job to finish',
      );
      await waitFor(async () => (await outbox()) === 0, 90_000, 'the outbox to drain');
      await stopAll(ws, 'SIGTERM');
      const written = (await edb.sql(`select id, job_id from ${ES}.events_audit order by id`)).map((r) => ({
        id: Number(r.id),
        jobId: r.job_id === null ? null : Number(r.job_id),
      }));
      const msgs: { msgId: string; event: JoblineEvent }[] = await readStream(nats!.url, events.stream);
      const e = checkEvents(
        written,
        msgs.map((m) => ({ id: Number(m.event.id), jobId: isJobEvent(m.event) ? m.event.data.jobId : undefined })),
      );
      const v = await checkJobs(internals(edb.jl).pool, edb.schema, ids);
      summaryTable(`NATS latency 150 ms, half-open, 10 s partition: ${ids.length} jobs, 2 workers`, v, {
        'events written': e.written,
        'events on the stream': e.delivered,
        'events missing': e.missing,
        'events duplicated': e.duplicated,
        'events out of per-job order': e.outOfOrder,
        'NATS connections accepted by the proxy': proxy.accepted,
      });
      expect(await Promise.all(ws.map((w) => w.exited))).toEqual([0, 0]);
      expect(v.completedOnce).toBe(ids.length);
      expect(v.lost + v.missingRows + v.duplicated).toBe(0);
      expect(e.missing + e.duplicated + e.unknown + e.outOfOrder).toBe(0);
      expect(e.written).toBeGreaterThanOrEqual(ids.length * 3);
    } finally {
      await edb.close();
    }
  });
});
