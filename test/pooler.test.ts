/**
 * Issue 13 item 1: Jobline behind PgBouncer in transaction mode (Debian's 1.18, started by this
 * file on its own port in front of the test database). The reproduction first
 * (enqueueMany 2,000, then one-at-a-time enqueue crashed on `prepared statement … already
 * exists`), then both detection signals, migrations without a direct URL, and a drain by worker
 * processes through the pooler with the exactly-once counts printed.
 */
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Jobline } from '@jobline/core';
import { databaseUrl, quietLogger, uniqueSchema, waitFor } from './helpers/db.js';
import { startPgBouncer, type PgBouncer } from './helpers/pgbouncer.js';
import { startWorkerProcess, stopAll, type WorkerProcess } from './helpers/processes.js';
import { checkJobs, summaryTable } from './faults/checker.js';
import { internals } from '@jobline/core/internal';

// Behind the CI pooler run DATABASE_URL is itself a PgBouncer: put ours in front of the direct one.
const direct = process.env.JOBLINE_DIRECT_URL || databaseUrl();
let bouncer: PgBouncer;
/** Ignores `statement_timeout` at startup, so probe signal 1 cannot see it: signal 2 must. */
let quietBouncer: PgBouncer;
const opened: Jobline[] = [];
const schemas: string[] = [];
const procs: WorkerProcess[] = [];

async function connect(url: string, opts: Parameters<typeof Jobline.connect>[0] = {}): Promise<Jobline> {
  const schema = opts.schema ?? uniqueSchema('pool');
  schemas.push(schema);
  const jl = await Jobline.connect({ databaseUrl: url, schema, logger: quietLogger(), natsUrl: '', directUrl: '', ...opts });
  opened.push(jl);
  return jl;
}

beforeAll(async () => {
  bouncer = await startPgBouncer(direct, { poolSize: 8 });
  quietBouncer = await startPgBouncer(direct, { poolSize: 8, extraIgnore: ['statement_timeout'] });
});
afterAll(async () => {
  await stopAll(procs);
  await Promise.all(opened.map((j) => j.close().catch(() => {})));
  const admin = new pg.Client({ connectionString: direct });
  await admin.connect();
  for (const s of schemas) await admin.query(`drop schema if exists "${s}" cascade`).catch(() => {});
  await admin.end();
  await bouncer?.stop();
  await quietBouncer?.stop();
});

/** Enqueues from several concurrent callers so the pooler spreads them over its server connections. */
async function enqueueBurst(jl: Jobline, queue: string, n: number): Promise<number[]> {
  const ids: number[] = [];
  await Promise.all(
    Array.from({ length: 8 }, async (_, w) => {
      for (let i = w; i < n; i += 8) ids.push((await jl.enqueue({ queue, name: 'noop', input: { i } })).id);
    }),
  );
  return ids;
}

describe('behind PgBouncer in transaction mode', () => {
  it('the issue reproduction: enqueueMany 2,000 then one-at-a-time enqueue, pooler detected at connect (signal 1)', async () => {
    const jl = await connect(bouncer.url());
    expect(internals(jl).topology?.pooler).toBe('transaction');
    expect(internals(jl).topology?.statements.named).toBe(false);
    expect(internals(jl).topology?.listenUrl).toBeNull(); // no direct URL: no LISTEN through the pooler
    const many = await jl.enqueueMany(Array.from({ length: 2000 }, (_, i) => ({ queue: 'repro', name: 'noop', input: { i } })));
    expect(many).toHaveLength(2000);
    const ids = await enqueueBurst(jl, 'repro', 400);
    expect(new Set(ids).size).toBe(400);
    const [{ n }] = (await internals(jl).pool.query(`select count(*)::int as n from "${jl.schema}".jobs`)).rows;
    expect(n).toBe(2400);
    // The pooler really spread the work over several server connections.
    const servers = (await bouncer.show('servers')).filter((s) => s.database === new URL(direct).pathname.slice(1));
    expect(servers.length).toBeGreaterThan(1);
  });

  it('a pooler the probe cannot see is found by the first colliding named statement (signal 2), and nothing fails', async () => {
    const jl = await connect(quietBouncer.url());
    expect(internals(jl).topology?.pooler).toBe('none'); // statement_timeout accepted (ignored) at startup
    const ids = await enqueueBurst(jl, 'sig2', 400);
    expect(new Set(ids).size).toBe(400);
    expect(internals(jl).topology?.statements.named).toBe(false);
    expect(internals(jl).topology?.statements.reason).toMatch(/42P05|26000/);
  });

  it('migrations without a direct URL take a transaction-scoped lock: 4 concurrent connects to a fresh schema all succeed', async () => {
    const schema = uniqueSchema('poolmig');
    const all = await Promise.all(Array.from({ length: 4 }, () => connect(bouncer.url(), { schema })));
    const [{ n, distinct }] = (
      await internals(all[0]).pool.query(`select count(*)::int as n, count(distinct version)::int as distinct from "${schema}".migrations`)
    ).rows;
    expect(n).toBe(distinct);
    expect(n).toBeGreaterThan(0);
    // No session advisory lock is left on any server connection of the pooler.
    const admin = new pg.Client({ connectionString: direct });
    await admin.connect();
    const { rows } = await admin.query(
      `select count(*)::int as n from pg_locks where locktype = 'advisory' and objid = hashtext($1)::oid`,
      [`jobline.migrate:${schema}`],
    );
    await admin.end();
    expect(rows[0].n).toBe(0);
  });

  it('two worker processes drain 4,000 jobs through the pooler (LISTEN on the direct URL): each completed exactly once', async () => {
    const jl = await connect(bouncer.url(), { directUrl: direct });
    expect(internals(jl).topology?.listenUrl).toBe(direct);
    const jobs = await jl.enqueueMany(Array.from({ length: 4000 }, (_, i) => ({ queue: 'pdrain', name: 'noop', input: { i } })));
    const env = {
      DATABASE_URL: bouncer.url(),
      JOBLINE_DIRECT_URL: direct,
      JOBLINE_POOLER: 'transaction',
      NATS_URL: '',
      JOBLINE_SCHEMA: jl.schema,
      QUEUES: 'pdrain',
      CONCURRENCY: '50',
    };
    procs.push(...(await Promise.all([startWorkerProcess(env), startWorkerProcess(env)])));
    // Enqueued after the workers are idle: a LISTEN wake-up (on the direct URL) must reach them.
    const late = await enqueueBurst(jl, 'pdrain', 200);
    const ids = [...jobs.map((j) => j.id), ...late];
    await waitFor(
      async () =>
        (await internals(jl).pool.query(`select count(*)::int as n from "${jl.schema}".jobs where state = 'completed'`)).rows[0].n ===
        ids.length,
      120_000,
      'drain through the pooler',
    );
    await stopAll(procs.splice(0), 'SIGTERM');
    const v = await checkJobs(internals(jl).pool, jl.schema, ids);
    summaryTable('drain through PgBouncer 1.18, transaction mode (2 worker processes)', v, {
      'pooler server connections': (await bouncer.show('servers')).length,
    });
    expect(v.completedOnce).toBe(ids.length);
    expect(v.lost + v.missingRows + v.duplicated).toBe(0);
  });
});
