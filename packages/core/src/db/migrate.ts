import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import type pg from 'pg';
import { MigrationError } from './errors.js';
import { quoteSchema } from './identifiers.js';
import { withTransaction } from './pool.js';
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
 * Applies pending migrations. Each file runs in a transaction of its own that first takes
 * `pg_advisory_xact_lock` keyed by the schema, then renumbers rows of renamed files (once),
 * re-reads what is applied and verifies every applied file's checksum: concurrent callers (10
 * processes starting at once) serialise per file and the later ones find it done. A changed
 * checksum of an applied file stops everything: migrations are append-only.
 *
 * Transaction-scoped rather than a session `pg_advisory_lock`: through a transaction-mode
 * pooler a session lock lands on whatever server connection the pooler picked, its unlock on
 * another, and the lock stays held until that server connection closes (found by running the
 * suite through PgBouncer: the next migrate() of the schema waited forever). The transaction
 * lock ends with the transaction on every path, direct or pooled.
 */
export async function migrate(pool: pg.Pool, schema: string, dir = MIGRATIONS_DIR): Promise<MigrateResult> {
  const s = quoteSchema(schema);
  const files = await readMigrations(dir);
  const newlyApplied: string[] = [];
  for (const file of files) {
    const applied = await withTransaction(pool, async (tx) => {
      await tx.query('select pg_advisory_xact_lock(hashtext($1))', [`jobline.migrate:${schema}`]);
      await tx.query(`create schema if not exists ${s}`);
      await tx.query(`create table if not exists ${s}.migrations (
        version int primary key, name text not null, checksum text not null,
        applied_at timestamptz not null default now())`);
      await renumber(tx, s);
      const { rows } = await tx.query<{ version: number; checksum: string }>(`select version, checksum from ${s}.migrations`);
      const have = new Map(rows.map((r) => [r.version, r.checksum]));
      for (const f of files) {
        const sum = have.get(f.version);
        if (sum !== undefined && sum !== f.checksum) {
          throw new MigrationError(
            `migration ${f.name} was changed after it was applied to schema "${schema}" ` +
              `(checksum ${sum.slice(0, 12)} in the database, ${f.checksum.slice(0, 12)} on disk). ` +
              'Applied migrations must never be edited: restore the file and add a new numbered migration instead.',
          );
        }
      }
      if (have.has(file.version)) return false;
      try {
        await tx.query(`set local search_path to ${s}`);
        await tx.query(file.sql);
      } catch (err) {
        throw new MigrationError(`migration ${file.name} failed: ${(err as Error).message}`, { cause: err });
      }
      await tx.query(`insert into ${s}.migrations (version, name, checksum) values ($1, $2, $3)`, [file.version, file.name, file.checksum]);
      return true;
    });
    if (applied) newlyApplied.push(file.name);
  }
  return { applied: newlyApplied, current: files.at(-1)?.version ?? 0, joblineVersion: VERSION };
}

/** Moves rows of renumbered files to their new version and name, inside the caller's (locked) transaction. */
async function renumber(tx: pg.PoolClient, s: string): Promise<void> {
  for (const r of RENUMBERED) {
    await tx.query(`update ${s}.migrations set version = $1, name = $2 where version = $3 and name = $4`, [
      r.to.version,
      r.to.name,
      r.from.version,
      r.from.name,
    ]);
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
