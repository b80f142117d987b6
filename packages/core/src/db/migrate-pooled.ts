/**
 * Migrations through a transaction-mode pooler, when no direct URL is given. A session advisory
 * lock would stay on whatever server connection the pooler picked (and be released on another,
 * or never), so each migration file runs in a transaction of its own that first takes
 * `pg_advisory_xact_lock` on the same key as the direct runner (db/migrate.ts), then re-reads
 * what is applied: concurrent starters serialise per file and the later ones find it done. The
 * lock ends with the transaction on every path, so nothing can leak.
 */
import type pg from 'pg';
import { MigrationError } from './errors.js';
import { quoteSchema } from './identifiers.js';
import { MIGRATIONS_DIR, readMigrations, type MigrateResult } from './migrate.js';
import { withTransaction } from './pool.js';

export async function migrateInTransactions(pool: pg.Pool, schema: string, dir = MIGRATIONS_DIR): Promise<MigrateResult> {
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
  return { applied: newlyApplied, current: files.at(-1)?.version ?? 0 };
}
