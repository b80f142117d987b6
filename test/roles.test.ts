/**
 * Least privilege (issue 7): a worker connected as a role holding only `roleGrants(…, 'worker')`
 * runs jobs, retries, leads maintenance (promotion, rescue, retention) — and cannot drop,
 * truncate or create anything. A producer role can enqueue and cancel but not delete.
 */
import pg from 'pg';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Jobline } from '@jobline/core';
import { roleGrants } from '@jobline/core/admin';
import { openTestDb, waitFor, type TestDb } from './helpers/db.js';

let db: TestDb;
const roles: string[] = [];
const conns: Jobline[] = [];
beforeAll(async () => {
  db = await openTestDb();
});
afterAll(async () => {
  await Promise.all(conns.map((c) => c.close()));
  await db.close();
  const admin = new pg.Client({ connectionString: db.url });
  await admin.connect();
  for (const r of roles) await admin.query(`drop role if exists "${r}"`).catch(() => {});
  await admin.end();
});

async function connectAs(kind: 'worker' | 'producer'): Promise<{ jl: Jobline; client: pg.Client }> {
  const role = `${db.schema}_${kind}`;
  roles.push(role);
  await db.sql(`create role "${role}" login password 'pw'`);
  for (const g of roleGrants(db.schema, role, kind)) await db.sql(g);
  const url = new URL(db.url);
  url.username = role;
  url.password = 'pw';
  const jl = await Jobline.connect({ databaseUrl: url.toString(), schema: db.schema, migrate: false, logger: pino({ level: 'silent' }) });
  conns.push(jl);
  const client = new pg.Client({ connectionString: url.toString() });
  await client.connect();
  return { jl, client };
}

describe('least-privilege roles', () => {
  it('a worker role runs, retries and maintains jobs but cannot change the schema', async () => {
    const { jl, client } = await connectAs('worker');
    const S = `"${db.schema}"`;
    const [ok, flaky] = await db.jl.enqueueMany([
      { queue: 'lp', name: 'ok' },
      { queue: 'lp', name: 'flaky', maxAttempts: 3 },
    ]);
    // a dead worker's running job for the rescuer, and an old finished job for retention
    await db.sql(
      `insert into ${S}.workers (id, hostname, pid, queues, concurrency, version, heartbeat_at) values ('gone', 'h', 1, '{lp}', 1, 't', now() - interval '1 hour')`,
    );
    const lost = await db.jl.enqueue({ queue: 'lp', name: 'ok' });
    await db.sql(`update ${S}.jobs set state = 'running', attempt = 1, worker_id = 'gone', started_at = now() where id = $1`, [lost.id]);
    const old = await db.jl.enqueue({ queue: 'other', name: 'x' });
    await db.sql(`update ${S}.jobs set state = 'completed', completed_at = now() - interval '30 days' where id = $1`, [old.id]);
    // and an old finished DAG run: its nodes and jobs go by the foreign keys' cascade
    const oldDag = await db.jl.submitDag({
      name: 'old',
      nodes: [
        { key: 'a', queue: 'other', name: 'x' },
        { key: 'b', queue: 'other', name: 'x', dependsOn: ['a'] },
      ],
    });
    await db.jl.cancelDag(oldDag.id);
    await db.sql(`update ${S}.dag_runs set finished_at = now() - interval '30 days' where id = $1`, [oldDag.id]);

    let calls = 0;
    const w = jl.worker({
      queues: ['lp'],
      pollIntervalMs: 50,
      promoteIntervalMs: 20,
      rescueIntervalMs: 50,
      leaseTtlMs: 300,
      backoff: { baseMs: 10, maxMs: 10 },
      retentionMs: 24 * 3600_000,
      handlers: {
        ok: async () => 'ok',
        flaky: async () => {
          if (++calls < 2) throw new Error('first try fails');
          return 'second';
        },
      },
    });
    await w.start();
    for (const id of [ok.id, flaky.id, lost.id]) {
      await waitFor(async () => (await db.jl.getJob(id)).state === 'completed', 15_000, `job ${id}`);
    }
    await (w as unknown as { maintenance: { retention(): Promise<void> } }).maintenance.retention();
    await expect(db.jl.getJob(old.id)).rejects.toMatchObject({ code: 'NOT_FOUND' });
    await expect(db.jl.getDag(oldDag.id)).rejects.toMatchObject({ code: 'NOT_FOUND' });
    await w.stop();
    expect(w.stats.rejected).toBe(0);

    for (const forbidden of [
      `drop table ${S}.jobs`,
      `truncate ${S}.jobs`,
      `create table ${S}.evil (id int)`,
      `delete from ${S}.migrations`,
      `alter table ${S}.jobs add column x int`,
    ]) {
      await expect(client.query(forbidden), forbidden).rejects.toThrow(/permission denied|must be owner/);
    }
    await client.end();
  });

  it('a producer role enqueues, reads and cancels, but cannot delete or touch leases', async () => {
    const { jl, client } = await connectAs('producer');
    const S = `"${db.schema}"`;
    const j = await jl.enqueue({ queue: 'lp2', name: 'x', input: { a: 1 } });
    expect((await jl.getJob(j.id)).input).toEqual({ a: 1 });
    expect((await jl.cancel(j.id)).state).toBe('cancelled');
    expect(await jl.executions(j.id)).toEqual([]);
    for (const forbidden of [
      `delete from ${S}.jobs`,
      `select * from ${S}.leases`,
      `update ${S}.workers set pid = 0`,
      `drop table ${S}.events`,
    ]) {
      await expect(client.query(forbidden), forbidden).rejects.toThrow(/permission denied|must be owner/);
    }
    await client.end();
  });
});
