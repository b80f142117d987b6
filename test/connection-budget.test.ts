/**
 * Issue 13 item 5: the connection budget, measured. A worker process (concurrency 50, pool 8;
 * it leads maintenance, the scheduler and — with NATS — the relay) drains jobs while a producer
 * (pool 10) enqueues from 64 concurrent callers; pg_stat_activity is sampled every 20 ms and the
 * peak per application_name kept. Then the same through an own PgBouncer (transaction mode,
 * pool 6, direct URL for LISTEN): client connections vs the server connections it opens.
 * The README's "Sizing behind a pooler" quotes these tables.
 */
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Jobline } from '@jobline/core';
import { databaseUrl, quietLogger, uniqueSchema, waitFor } from './helpers/db.js';
import { startPgBouncer, type PgBouncer } from './helpers/pgbouncer.js';
import { startWorkerProcess, stopAll, type WorkerProcess } from './helpers/processes.js';
import { internals } from '@jobline/core/internal';

const direct = process.env.JOBLINE_DIRECT_URL || databaseUrl();
let admin: pg.Client;
let bouncer: PgBouncer;
const procs: WorkerProcess[] = [];
const opened: Jobline[] = [];

beforeAll(async () => {
  admin = new pg.Client({ connectionString: direct });
  await admin.connect();
  bouncer = await startPgBouncer(direct, { poolSize: 6 });
});
afterAll(async () => {
  await stopAll(procs);
  for (const j of opened) {
    await j.close().catch(() => {});
    await admin.query(`drop schema if exists "${j.schema}" cascade`).catch(() => {});
  }
  await admin.end();
  await bouncer?.stop();
});

/** Samples backends whose application_name starts with `prefix` until `stop()`; peak per name. */
function sampler(prefix: string) {
  const peak = new Map<string, number>();
  let total = 0;
  let running = true;
  const loop = (async () => {
    while (running) {
      const { rows } = await admin.query(
        `select application_name as a, count(*)::int as n from pg_stat_activity where application_name like $1 || '%' group by 1`,
        [prefix],
      );
      let sum = 0;
      for (const r of rows) {
        peak.set(r.a, Math.max(peak.get(r.a) ?? 0, r.n));
        sum += r.n;
      }
      total = Math.max(total, sum);
      await new Promise((r) => setTimeout(r, 20));
    }
  })();
  return {
    async stop() {
      running = false;
      await loop;
      return { peak: Object.fromEntries([...peak].sort()), total };
    },
  };
}

async function drainRun(url: string, extraEnv: Record<string, string>, tag: string) {
  const schema = uniqueSchema('budget');
  const producer = await Jobline.connect({
    databaseUrl: url,
    schema,
    logger: quietLogger(),
    natsUrl: '',
    applicationName: `${tag}-producer`,
    poolSize: 10,
    ...(extraEnv.JOBLINE_DIRECT_URL ? { directUrl: extraEnv.JOBLINE_DIRECT_URL } : { directUrl: '' }),
  });
  opened.push(producer);
  const s = sampler(tag);
  const w = await startWorkerProcess({
    DATABASE_URL: url,
    JOBLINE_SCHEMA: schema,
    QUEUES: 'budget',
    CONCURRENCY: '50',
    APP_NAME: `${tag}-worker`,
    NATS_URL: '',
    ...extraEnv,
  });
  procs.push(w);
  const total = 3000;
  let next = 0;
  await Promise.all(
    Array.from({ length: 64 }, async () => {
      while (next < total) {
        next++;
        await producer.enqueue({ queue: 'budget', name: 'noop' });
      }
    }),
  );
  await waitFor(
    async () =>
      (await internals(producer).pool.query(`select count(*)::int as n from "${schema}".jobs where state = 'completed'`)).rows[0].n ===
      total,
    60_000,
    'the drain',
  );
  const measured = await s.stop();
  await stopAll([w], 'SIGTERM');
  return measured;
}

describe('connection budget', () => {
  it('direct: a worker process holds at most its pool + 1 LISTEN (+1 as scheduler leader); a producer at most its pool', async () => {
    const m = await drainRun(direct, {}, 'cbd');
    console.log(`\n### server connections, direct (peak per application_name)\n${JSON.stringify(m.peak, null, 1)}\ntotal peak: ${m.total}`);
    expect(m.peak['cbd-worker']).toBeLessThanOrEqual(8);
    expect(m.peak['cbd-worker-listener']).toBe(1);
    expect(m.peak['cbd-worker-scheduler'] ?? 0).toBeLessThanOrEqual(1);
    expect(m.peak['cbd-producer']).toBeLessThanOrEqual(10);
    expect(m.total).toBeLessThanOrEqual(8 + 2 + 10 + 1); // + the startup probe
  });

  it('through PgBouncer (pool 6): the same clients use at most 6 server connections, plus the direct LISTEN ones', async () => {
    const serversPeak = { n: 0, clients: 0 };
    let polling = true;
    const poll = (async () => {
      while (polling) {
        const rows = await bouncer.show('servers');
        serversPeak.n = Math.max(serversPeak.n, rows.length);
        // Client connections from this test's producer and worker (the admin console's own excluded).
        serversPeak.clients = Math.max(
          serversPeak.clients,
          (await bouncer.show('clients')).filter((c) => c.database !== 'pgbouncer').length,
        );
        await new Promise((r) => setTimeout(r, 20));
      }
    })();
    const m = await drainRun(bouncer.url(), { JOBLINE_DIRECT_URL: direct, JOBLINE_POOLER: 'transaction' }, 'cbp');
    polling = false;
    await poll;
    console.log(
      `\n### through PgBouncer pool_size 6: server connections by application_name (peak)\n${JSON.stringify(m.peak, null, 1)}\nPgBouncer client connections (peak): ${serversPeak.clients}, server connections (peak): ${serversPeak.n}`,
    );
    expect(serversPeak.n).toBeLessThanOrEqual(6);
    expect(m.peak['cbp-worker-listener']).toBe(1); // on the direct URL
    // Pooled connections show the pooler's server connections, at most its pool size in total.
    const pooled = Object.entries(m.peak)
      .filter(([k]) => !k.endsWith('-listener') && !k.endsWith('-scheduler'))
      .reduce((a, [, n]) => a + n, 0);
    expect(pooled).toBeLessThanOrEqual(6 * 2); // two application_names can share a server connection over time
  });
});
