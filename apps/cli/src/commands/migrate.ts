import { migrationStatus, pendingSql, readMigrations, type MigrationStatus } from '@jobline/core/admin';
import { connect, rawPool, type Command } from '../context.js';
import { UsageError } from '../errors.js';
import { table, writeJson } from '../output.js';

export const migrate: Command = {
  name: 'migrate',
  summary: 'apply pending database migrations; `migrate status` checks them',
  usage: 'migrate [--dry-run] [--json]\n       jobline migrate status [--json]',
  help: `Applies the numbered SQL files in migrations/ that the database does not have yet, each in
its own transaction, under an advisory lock (safe to run from many processes at once).
Applied files are checked against their checksums: an edited migration stops everything.

  migrate            apply what is pending
  migrate --dry-run  print the SQL that would run (one transaction per file), change nothing
  migrate status     list applied and pending migrations, checksum mismatches and migrations
                     newer than this release; exit 1 unless the schema is current (an
                     init-container or deploy check)

A schema with migrations newer than this release is refused (by this command and by every
app at start) unless they are all marked additive: see docs/migrations.md.

Environment: DATABASE_URL (required), JOBLINE_SCHEMA (default "jobline").`,
  options: { 'dry-run': { type: 'boolean' } },
  async run({ values, positionals, json }) {
    const sub = positionals[0];
    if (sub !== undefined && sub !== 'status')
      throw new UsageError(`unknown subcommand ${JSON.stringify(sub)}: use \`migrate\` or \`migrate status\``);
    if (sub === 'status' && values['dry-run']) throw new UsageError('--dry-run applies to `migrate`, not `migrate status`');
    if (sub === 'status' || values['dry-run']) {
      // A plain pool, not connect(): these must also read a schema newer than this release.
      const { pool, schema } = await rawPool();
      try {
        if (sub === 'status') return printStatus(await migrationStatus(pool, schema), json);
        const sql = await pendingSql(pool, schema);
        if (json) writeJson({ schema, sql });
        else process.stdout.write(sql || `-- schema "${schema}" is up to date: nothing to run\n`);
        return 0;
      } finally {
        await pool.end();
      }
    }
    const jl = await connect();
    try {
      const r = await jl.migrate();
      const files = await readMigrations();
      if (json) writeJson({ schema: jl.schema, applied: r.applied, current: r.current, joblineVersion: r.joblineVersion, newer: r.newer });
      else if (r.applied.length)
        process.stdout.write(
          `applied ${r.applied.length} migration(s) to schema "${jl.schema}":\n${r.applied.map((a) => `  ${a}\n`).join('')}now at version ${r.current} (@jobline/core ${r.joblineVersion})\n`,
        );
      else
        process.stdout.write(
          `schema "${jl.schema}" is up to date (version ${r.current}, ${files.length} migration(s) of @jobline/core ${r.joblineVersion})\n`,
        );
      return 0;
    } finally {
      await jl.close();
    }
  },
};

function printStatus(st: MigrationStatus, json: boolean): number {
  if (json) {
    writeJson({
      schema: st.schema,
      current: st.current,
      databaseVersion: st.databaseVersion,
      codeVersion: st.codeVersion,
      applied: st.applied.map((m) => ({ version: m.version, name: m.name, appliedAt: m.appliedAt, additive: m.additive })),
      pending: st.pending.map((f) => ({ version: f.version, name: f.name, additive: f.additive })),
      mismatched: st.mismatched,
      unknown: st.unknown.map((m) => ({ version: m.version, name: m.name, additive: m.additive })),
    });
    return st.current ? 0 : 1;
  }
  const mismatch = new Set(st.mismatched.map((m) => m.name));
  const unknown = new Set(st.unknown.map((m) => m.version));
  const rows = [
    ...st.applied.map((m) => ({
      name: m.name,
      status: mismatch.has(m.name) ? 'CHANGED' : unknown.has(m.version) ? (m.additive ? 'newer (additive)' : 'NEWER') : 'applied',
      at: m.appliedAt.toISOString(),
    })),
    ...st.pending.map((f) => ({ name: f.name, status: 'pending', at: undefined })),
  ].sort((a, b) => a.name.localeCompare(b.name));
  process.stdout.write(`schema "${st.schema}": database at version ${st.databaseVersion}, this release ships ${st.codeVersion}\n`);
  process.stdout.write(
    table(rows, [
      { header: 'MIGRATION', get: (r) => r.name },
      { header: 'STATUS', get: (r) => r.status },
      { header: 'APPLIED AT', get: (r) => r.at },
    ]),
  );
  for (const m of st.mismatched)
    process.stdout.write(
      `${m.name}: checksum ${m.database.slice(0, 12)} in the database, ${m.disk.slice(0, 12)} on disk — restore the file; never edit an applied migration\n`,
    );
  if (st.pending.length) process.stdout.write(`${st.pending.length} pending: run \`jobline migrate\`\n`);
  if (st.unknown.some((m) => !m.additive)) process.stdout.write('the database is newer than this release: upgrade the application\n');
  process.stdout.write(st.current ? 'current\n' : 'not current\n');
  return st.current ? 0 : 1;
}
