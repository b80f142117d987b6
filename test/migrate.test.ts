import { mkdtemp, writeFile, readdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { MigrationError } from '@jobline/core';
import { MIGRATIONS_DIR, createPool, migrate, migrationsCurrent } from '@jobline/core/admin';
import { databaseUrl, uniqueSchema } from './helpers/db.js';

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

describe('migrations', () => {
  it('10 concurrent migrate() calls apply each file exactly once', async () => {
    const schema = uniqueSchema('mig');
    schemas.push(schema);
    const results = await Promise.all(Array.from({ length: 10 }, () => migrate(pool(), schema)));
    const files = (await readdir(MIGRATIONS_DIR)).filter((f) => f.endsWith('.sql'));
    // exactly one caller applied each file; the other nine found nothing to do
    const applied = results.flatMap((r) => r.applied);
    expect(applied.sort()).toEqual(files.map((f) => f.replace(/\.sql$/, '')).sort());
    const rows = (await pool().query(`select version, checksum from "${schema}".migrations`)).rows;
    expect(rows).toHaveLength(files.length);
    expect(await migrationsCurrent(pool(), schema)).toBe(true);
    for (const t of ['queues', 'job_definitions', 'jobs', 'job_executions', 'workers', 'dag_runs', 'dag_nodes', 'events', 'leases']) {
      const r = await pool().query(`select to_regclass($1) as t`, [`"${schema}".${t}`]);
      expect(r.rows[0].t, t).not.toBeNull();
    }
  });

  it('refuses to run when an applied migration file was changed', async () => {
    const schema = uniqueSchema('mig');
    schemas.push(schema);
    const dir = await mkdtemp(join(tmpdir(), 'jobline-mig-'));
    await writeFile(join(dir, '0001_first.sql'), 'create table a (id int);');
    await migrate(pool(), schema, dir);
    await writeFile(join(dir, '0001_first.sql'), 'create table a (id bigint);');
    const err = await migrate(pool(), schema, dir).catch((e) => e);
    expect(err).toBeInstanceOf(MigrationError);
    expect(err.message).toMatch(/0001_first was changed after it was applied/);
    expect(err.message).toMatch(/add a new numbered migration/);
    expect(await migrationsCurrent(pool(), schema, dir)).toBe(false);
  });

  it('rolls back a failing migration and reports which one', async () => {
    const schema = uniqueSchema('mig');
    schemas.push(schema);
    const dir = await mkdtemp(join(tmpdir(), 'jobline-mig-'));
    await writeFile(join(dir, '0001_ok.sql'), 'create table a (id int);');
    await writeFile(join(dir, '0002_bad.sql'), 'create table b (id int); select 1/0;');
    await expect(migrate(pool(), schema, dir)).rejects.toThrow(/migration 0002_bad failed: division by zero/);
    const r = await pool().query(`select to_regclass($1) as t`, [`"${schema}".b`]);
    expect(r.rows[0].t).toBeNull();
    const v = await pool().query(`select version from "${schema}".migrations`);
    expect(v.rows.map((x) => x.version)).toEqual([1]);
    // nothing of 0002 was kept, so once the file is fixed the next run applies it (and only it)
    await writeFile(join(dir, '0002_bad.sql'), 'create table b (id int); select 1;');
    expect((await migrate(pool(), schema, dir)).applied).toEqual(['0002_bad']);
    const after = await pool().query(`select version from "${schema}".migrations order by version`);
    expect(after.rows.map((x) => x.version)).toEqual([1, 2]);
    expect((await pool().query(`select to_regclass($1) as t`, [`"${schema}".b`])).rows[0].t).not.toBeNull();
  });
});
