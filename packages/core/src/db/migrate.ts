import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import type pg from 'pg';
import { MigrationError } from './errors.js';
import { quoteSchema } from './identifiers.js';
import { VERSION } from '../version.js';

/**
 * `migrations/` inside this package (dist/db/ → ../../migrations/): the build copies the
 * repository's root `migrations/` there (scripts/copy-migrations.mjs), so the packed tarball
 * carries them and an installed @jobline/core migrates without the repository.
 */
export const MIGRATIONS_DIR = fileURLToPath(new URL('../../migrations/', import.meta.url));

/**
 * Files renumbered after they shipped (0.1.0 closed the gap 0001, 0005, 0006). Their contents,
 * and so their checksums, are unchanged; a database that recorded the old number and name is
 * moved to the new ones before anything else, matched on both so that a later migration that
 * reuses the old number is never confused with the renamed one.
 */
export const RENUMBERED: readonly { from: { version: number; name: string }; to: { version: number; name: string } }[] = [
  { from: { version: 5, name: '0005_schedules' }, to: { version: 2, name: '0002_schedules' } },
  { from: { version: 6, name: '0006_dag_retention' }, to: { version: 3, name: '0003_dag_retention' } },
];

export interface MigrationFile {
  version: number;
  name: string;
  sql: string;
  checksum: string;
}

export async function readMigrations(dir = MIGRATIONS_DIR): Promise<MigrationFile[]> {
  const files = (await readdir(dir)).filter((f) => /^\d{4}_[\w-]+\.sql$/.test(f)).sort();
  return Promise.all(
    files.map(async (file) => {
      const sql = await readFile(`${dir}/${file}`, 'utf8');
      return {
        version: Number(file.slice(0, 4)),
        name: file.replace(/\.sql$/, ''),
        sql,
        checksum: createHash('sha256').update(sql).digest('hex'),
      };
    }),
  );
}

export interface MigrateResult {
  applied: string[];
  current: number;
  /** The @jobline/core version whose migrations these are. */
  joblineVersion: string;
}

/**
 * Applies pending migrations. A session-level advisory lock keyed by the schema serialises
 * concurrent callers (10 processes starting at once wait in line, then find nothing to do);
 * each file runs in its own transaction with its checksum recorded. A changed checksum of an
 * applied file stops everything: migrations are append-only.
 */
export async function migrate(pool: pg.Pool, schema: string, dir = MIGRATIONS_DIR): Promise<MigrateResult> {
  const s = quoteSchema(schema);
  const files = await readMigrations(dir);
  const client = await pool.connect();
  try {
    await client.query('select pg_advisory_lock(hashtext($1))', [`jobline.migrate:${schema}`]);
    try {
      await client.query(`create schema if not exists ${s}`);
      await client.query(`create table if not exists ${s}.migrations (
        version int primary key, name text not null, checksum text not null,
        applied_at timestamptz not null default now())`);
      await renumber(client, s);
      const { rows } = await client.query<{ version: number; name: string; checksum: string }>(
        `select version, name, checksum from ${s}.migrations order by version`,
      );
      const applied = new Map(rows.map((r) => [r.version, r]));
      for (const file of files) {
        const done = applied.get(file.version);
        if (done && done.checksum !== file.checksum) {
          throw new MigrationError(
            `migration ${file.name} was changed after it was applied to schema "${schema}" ` +
              `(checksum ${done.checksum.slice(0, 12)} in the database, ${file.checksum.slice(0, 12)} on disk). ` +
              'Applied migrations must never be edited: restore the file and add a new numbered migration instead.',
          );
        }
      }
      const newlyApplied: string[] = [];
      for (const file of files) {
        if (applied.has(file.version)) continue;
        await client.query('begin');
        try {
          await client.query(`set local search_path to ${s}`);
          await client.query(file.sql);
          await client.query(`insert into ${s}.migrations (version, name, checksum) values ($1, $2, $3)`, [
            file.version,
            file.name,
            file.checksum,
          ]);
          await client.query('commit');
        } catch (err) {
          await client.query('rollback');
          throw new MigrationError(`migration ${file.name} failed: ${(err as Error).message}`, { cause: err });
        }
        newlyApplied.push(file.name);
      }
      return { applied: newlyApplied, current: files.at(-1)?.version ?? 0, joblineVersion: VERSION };
    } finally {
      await client.query('select pg_advisory_unlock(hashtext($1))', [`jobline.migrate:${schema}`]);
    }
  } finally {
    client.release();
  }
}

/** Moves rows of renumbered files to their new version and name, all in one transaction. */
async function renumber(client: pg.PoolClient, s: string): Promise<void> {
  const { rows } = await client.query<{ version: number; name: string }>(
    `select version, name from ${s}.migrations where (version, name) in (select * from unnest($1::int[], $2::text[]))`,
    [RENUMBERED.map((r) => r.from.version), RENUMBERED.map((r) => r.from.name)],
  );
  if (!rows.length) return;
  await client.query('begin');
  try {
    for (const r of RENUMBERED) {
      await client.query(`update ${s}.migrations set version = $1, name = $2 where version = $3 and name = $4`, [
        r.to.version,
        r.to.name,
        r.from.version,
        r.from.name,
      ]);
    }
    await client.query('commit');
  } catch (err) {
    await client.query('rollback');
    throw new MigrationError(`renumbering applied migrations failed: ${(err as Error).message}`, { cause: err });
  }
}

/** True when every migration on disk is applied with a matching checksum (readiness probes). */
export async function migrationsCurrent(pool: pg.Pool, schema: string, dir = MIGRATIONS_DIR): Promise<boolean> {
  const files = await readMigrations(dir);
  try {
    const { rows } = await pool.query<{ version: number; checksum: string }>(
      `select version, checksum from ${quoteSchema(schema)}.migrations`,
    );
    const have = new Map(rows.map((r) => [r.version, r.checksum]));
    return files.every((f) => have.get(f.version) === f.checksum);
  } catch {
    return false;
  }
}
