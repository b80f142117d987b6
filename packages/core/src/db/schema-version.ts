/**
 * The compatibility rule between code and schema (docs/migrations.md): a process refuses to run
 * against a schema that has migrations it does not know, unless every one of them was marked
 * `-- jobline:additive` (first line of the file) when it was applied. Additive migrations only
 * add (tables, nullable or defaulted columns, indexes, comments), so code written before them
 * keeps working: a rolling upgrade can migrate first and replace workers afterwards.
 */
import { MigrationError } from './errors.js';
import { quoteSchema } from './identifiers.js';
import type { Queryable } from './pool.js';

export const ADDITIVE_MARKER = /^-- jobline:additive\b/;

export interface AppliedMigration {
  version: number;
  name: string;
  checksum: string;
  appliedAt: Date;
  additive: boolean;
}

/**
 * The ledger as the database has it; [] when it has none yet. Read through to_jsonb so that a
 * ledger from before the `additive` column (added by this release's runner) reads too.
 */
/** A file renumbered after it shipped: a ledger row with `from` counts as `to` (migrate() moves it). */
export interface Renumbering {
  from: { version: number; name: string };
  to: { version: number; name: string };
}

export async function readApplied(db: Queryable, schema: string, renumbered: readonly Renumbering[] = []): Promise<AppliedMigration[]> {
  const s = quoteSchema(schema);
  const { rows } = await db.query(`select to_regclass($1) is not null as present`, [`${s}.migrations`]);
  if (!rows[0].present) return [];
  const res = await db.query(`select to_jsonb(m) as m from ${s}.migrations m order by version`);
  const applied: AppliedMigration[] = res.rows.map(({ m }) => {
    const moved = renumbered.find((r) => r.from.version === Number(m.version) && r.from.name === m.name)?.to;
    return {
      version: moved?.version ?? Number(m.version),
      name: moved?.name ?? String(m.name),
      checksum: String(m.checksum),
      appliedAt: new Date(m.applied_at),
      additive: m.additive === true,
    };
  });
  return applied.sort((a, b) => a.version - b.version);
}

/**
 * Throws when the schema has a non-additive migration this code does not know; returns the
 * unknown additive ones (the caller warns about them).
 */
export async function assertNotNewer(
  db: Queryable,
  schema: string,
  files: readonly { version: number; name: string }[],
  renumbered: readonly Renumbering[] = [],
): Promise<AppliedMigration[]> {
  const known = new Set(files.map((f) => f.version));
  const unknown = (await readApplied(db, schema, renumbered)).filter((m) => !known.has(m.version));
  const blocking = unknown.filter((m) => !m.additive);
  if (blocking.length) {
    const newest = unknown.at(-1)!;
    const ours = files.at(-1);
    throw new MigrationError(
      `schema "${schema}" is at version ${newest.version} (${newest.name}), newer than this Jobline knows: ` +
        `its migrations end at version ${ours?.version ?? 0} (${ours?.name ?? 'none'}). ` +
        `${blocking.map((m) => m.name).join(', ')} ${blocking.length > 1 ? 'are' : 'is'} not marked additive, so this code may misread the schema. ` +
        'Deploy a release that ships these migrations (upgrade the application), or point it at a database of its own version.',
    );
  }
  return unknown;
}

/**
 * Ledgers from before this release lack `additive`. Checked first: ALTER TABLE takes an
 * exclusive lock even when the column exists, and every process start runs migrate().
 */
export async function addAdditiveColumn(db: Queryable, schema: string): Promise<void> {
  const { rows } = await db.query(
    `select 1 from pg_attribute where attrelid = to_regclass($1) and attname = 'additive' and not attisdropped`,
    [`${quoteSchema(schema)}.migrations`],
  );
  if (!rows.length)
    await db.query(`alter table ${quoteSchema(schema)}.migrations add column if not exists additive boolean not null default false`);
}
