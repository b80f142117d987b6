/**
 * `jobline migrate status` and `--dry-run`: what the database has against what this code
 * ships, read without taking the migration lock or changing anything.
 */
import { quoteSchema } from './identifiers.js';
import type { Queryable } from './pool.js';
import { MIGRATIONS_DIR, RENUMBERED, readMigrations, type MigrationFile } from './migrate.js';
import { readApplied, type AppliedMigration } from './schema-version.js';

export interface MigrationStatus {
  schema: string;
  /** Highest version applied to the database; 0 for an empty one. */
  databaseVersion: number;
  /** Highest version this code ships. */
  codeVersion: number;
  applied: AppliedMigration[];
  /** Files not applied yet, in order. */
  pending: MigrationFile[];
  /** Applied files whose text changed since (checksum in the database ≠ on disk). */
  mismatched: { name: string; database: string; disk: string }[];
  /** Applied migrations this code does not ship (a newer release applied them). */
  unknown: AppliedMigration[];
  /** Nothing pending, nothing changed, nothing unknown that is not additive. */
  current: boolean;
}

export async function migrationStatus(db: Queryable, schema: string, dir = MIGRATIONS_DIR): Promise<MigrationStatus> {
  const files = await readMigrations(dir);
  // Rows under a renumbered file's old number count as the new one (migrate() moves them first).
  const applied = await readApplied(db, schema, RENUMBERED);
  const byVersion = new Map(applied.map((m) => [m.version, m]));
  const known = new Set(files.map((f) => f.version));
  const pending = files.filter((f) => !byVersion.has(f.version));
  const mismatched = files
    .filter((f) => byVersion.has(f.version) && byVersion.get(f.version)!.checksum !== f.checksum)
    .map((f) => ({ name: f.name, database: byVersion.get(f.version)!.checksum, disk: f.checksum }));
  const unknown = applied.filter((m) => !known.has(m.version));
  return {
    schema,
    databaseVersion: applied.at(-1)?.version ?? 0,
    codeVersion: files.at(-1)?.version ?? 0,
    applied,
    pending,
    mismatched,
    unknown,
    current: pending.length === 0 && mismatched.length === 0 && unknown.every((m) => m.additive),
  };
}

/** The SQL `migrate` would run now, file by file, as a script (what `--dry-run` prints). */
export async function pendingSql(db: Queryable, schema: string, dir = MIGRATIONS_DIR): Promise<string> {
  const st = await migrationStatus(db, schema, dir);
  const s = quoteSchema(schema);
  if (!st.pending.length) return '';
  // The same ledger the runner creates, so the script can be applied by hand (psql -f).
  const ledger =
    `create schema if not exists ${s};\ncreate table if not exists ${s}.migrations (\n  version int primary key, name text not null, checksum text not null,\n` +
    `  applied_at timestamptz not null default now(), additive boolean not null default false);\n\n`;
  return (
    ledger +
    st.pending
      .map(
        (f) =>
          `-- ${f.name} (sha256 ${f.checksum.slice(0, 12)})\nbegin;\nset local search_path to ${s};\n${f.sql.trimEnd()}\n` +
          `insert into ${s}.migrations (version, name, checksum, additive) values (${f.version}, '${f.name}', '${f.checksum}', ${f.additive});\ncommit;\n`,
      )
      .join('\n')
  );
}
