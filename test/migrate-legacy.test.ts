/**
 * Databases created by each released migration set (0001; 0001+0005; 0001+0005+0006, kept in
 * test/fixtures/migrations-legacy/) upgrade to today's migrations/, where 0005 and 0006 are
 * 0002 and 0003: the rows are renumbered, checksums still match, the data survives, the schema
 * ends up identical to a freshly migrated one, and Jobline runs on it.
 */
import { fileURLToPath } from 'node:url';
import type pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { Jobline } from '@jobline/core';
import { RENUMBERED, createPool, migrate, migrationsCurrent, readMigrations } from '@jobline/core/admin';
import { databaseUrl, quietLogger, uniqueSchema, waitFor } from './helpers/db.js';

const LEGACY = fileURLToPath(new URL('./fixtures/migrations-legacy/', import.meta.url));
const SETS = ['0001', '0001-0005', '0001-0005-0006'];

const pools: pg.Pool[] = [];
const schemas: string[] = [];
afterAll(async () => {
  const admin = createPool({ connectionString: databaseUrl(), max: 1 });
  for (const s of schemas) await admin.query(`drop schema if exists "${s}" cascade`);
  await admin.end();
  await Promise.all(pools.map((p) => p.end()));
});

function pool() {
  const p = createPool({ connectionString: databaseUrl(), max: 2 });
  pools.push(p);
  return p;
}

/** Tables, columns, constraints and indexes of a schema, with the schema's name taken out. */
async function shape(p: pg.Pool, schema: string): Promise<string[]> {
  const q = async (sql: string) =>
    (await p.query(sql, [schema])).rows.map((r) => String(r.x).replaceAll(`"${schema}".`, '').replaceAll(`${schema}.`, ''));
  const columns =
    await q(`select table_name || '.' || column_name || ' ' || data_type || ' ' || is_nullable || ' ' || coalesce(column_default, '') as x
    from information_schema.columns where table_schema = $1 and table_name <> 'migrations' order by 1`);
  const indexes = await q(`select indexdef as x from pg_indexes where schemaname = $1 order by indexname`);
  const checks = await q(`select conrelid::regclass || ' ' || pg_get_constraintdef(oid) as x from pg_constraint
    where connamespace = $1::regnamespace order by 1`);
  return [...columns, ...indexes, ...checks];
}

describe('upgrading databases created by earlier migration sets', () => {
  it('the renumbering map matches the files: same contents under the old and the new name', async () => {
    const now = await readMigrations();
    const old = await readMigrations(`${LEGACY}0001-0005-0006`);
    for (const r of RENUMBERED) {
      const a = old.find((f) => f.name === r.from.name);
      const b = now.find((f) => f.name === r.to.name);
      expect(a?.checksum, r.from.name).toBeDefined();
      expect(b?.checksum, r.to.name).toBe(a?.checksum);
      expect(b?.version).toBe(r.to.version);
    }
    // No gaps: versions 1..n.
    expect(now.map((f) => f.version)).toEqual(now.map((_, i) => i + 1));
  });

  for (const set of SETS) {
    it(`a database migrated with {${set.replaceAll('-', ', ')}} and holding data upgrades to the latest`, async () => {
      const schema = uniqueSchema('legacy');
      schemas.push(schema);
      const p = pool();
      const legacy = await migrate(p, schema, LEGACY + set);
      expect(legacy.applied).toEqual((await readMigrations(LEGACY + set)).map((f) => f.name));
      expect(await migrationsCurrent(p, schema)).toBe(false);

      // Data written the way that release wrote it: a finished job with its history, a waiting one.
      const s = `"${schema}"`;
      const [done] = (
        await p.query(`insert into ${s}.jobs (queue, name, state, attempt, input, output, completed_at)
          values ('q', 'old-done', 'completed', 1, '{"n":1}', '{"ok":true}', now()) returning id`)
      ).rows;
      await p.query(
        `insert into ${s}.job_executions (job_id, attempt, worker_id, state, started_at, finished_at, duration_ms, output)
        values ($1, 1, 'w-old', 'completed', now(), now(), 5, '{"ok":true}')`,
        [done.id],
      );
      const [pending] = (
        await p.query(`insert into ${s}.jobs (queue, name, state, input) values ('q', 'old-pending', 'available', '{"n":2}') returning id`)
      ).rows;

      const up = await migrate(p, schema);
      const all = await readMigrations();
      const had = legacy.applied.map((n) => RENUMBERED.find((r) => r.from.name === n)?.to.name ?? n);
      expect(up.applied).toEqual(all.map((f) => f.name).filter((n) => !had.includes(n)));
      const rows = (await p.query(`select version, name, checksum from ${s}.migrations order by version`)).rows;
      expect(rows).toEqual(all.map((f) => ({ version: f.version, name: f.name, checksum: f.checksum })));
      expect(await migrationsCurrent(p, schema)).toBe(true);
      expect((await migrate(p, schema)).applied).toEqual([]);

      // Same tables, columns, constraints and indexes as a schema migrated fresh today.
      const fresh = uniqueSchema('fresh');
      schemas.push(fresh);
      await migrate(p, fresh);
      expect(await shape(p, schema)).toEqual(await shape(p, fresh));

      // And Jobline runs on it: the old rows read back, the old pending job completes.
      const jl = await Jobline.connect({ databaseUrl: databaseUrl(), schema, logger: quietLogger(), natsUrl: '', migrate: false });
      try {
        expect((await jl.getJob(done.id)).output).toEqual({ ok: true });
        expect((await jl.executions(done.id)).map((e) => e.workerId)).toEqual(['w-old']);
        const w = jl.worker({
          queues: ['q'],
          concurrency: 1,
          handlers: { 'old-pending': async (input: { n: number }) => ({ doubled: input.n * 2 }) },
        });
        await w.start();
        const finished = await waitFor(
          async () => {
            const j = await jl.getJob(pending.id);
            return j.state === 'completed' ? j : undefined;
          },
          20_000,
          'the pending job of the old schema to complete',
        );
        expect(finished.output).toEqual({ doubled: 4 });
        await w.stop();
      } finally {
        await jl.close();
      }
    });
  }
});
