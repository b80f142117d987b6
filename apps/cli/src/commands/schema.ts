import { randomBytes } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { describeSchema, dropSchema, migrate, renderSchemaMarkdown, undocumented } from '@jobline/core/admin';
import { rawPool, type Command } from '../context.js';
import { UsageError } from '../errors.js';
import { writeJson } from '../output.js';

export const schema: Command = {
  name: 'schema',
  summary: 'document the database schema (`schema docs`)',
  usage: 'schema docs [--fresh] [--out FILE] [--json]',
  help: `Writes Markdown documentation of Jobline's tables from the catalogs of a migrated database:
columns with types, nullability, defaults and comments, constraints, indexes and foreign keys.

  --fresh     migrate a temporary schema in DATABASE_URL, document it, drop it (documents
              exactly what this release's migrations create; what CI and
              \`npm run schema:docs\` use)
  --out FILE  write to FILE instead of stdout (docs/schema.md in this repository)

Without --fresh it documents JOBLINE_SCHEMA as the database has it.
Prints the tables and columns that have no COMMENT on stderr.

Environment: DATABASE_URL (required), JOBLINE_SCHEMA (default "jobline").`,
  options: { fresh: { type: 'boolean' }, out: { type: 'string' } },
  async run({ values, positionals, json }) {
    if (positionals[0] !== 'docs') throw new UsageError(`unknown subcommand ${JSON.stringify(positionals[0] ?? '')}: use \`schema docs\``);
    const { pool, schema: configured } = await rawPool();
    const fresh = values.fresh === true;
    const schema = fresh ? `jobline_docs_${randomBytes(4).toString('hex')}` : configured;
    try {
      if (fresh) await migrate(pool, schema);
      const doc = await describeSchema(pool, schema);
      if (!doc.tables.length) throw new UsageError(`schema "${schema}" has no tables: run \`jobline migrate\` first, or use --fresh`);
      const md = renderSchemaMarkdown(doc);
      const missing = undocumented(doc);
      if (missing.length) process.stderr.write(`jobline schema docs: ${missing.length} without a COMMENT: ${missing.join(', ')}\n`);
      if (typeof values.out === 'string') {
        await mkdir(dirname(values.out), { recursive: true });
        await writeFile(values.out, md);
        if (json) writeJson({ out: values.out, tables: doc.tables.length, undocumented: missing });
        else process.stdout.write(`wrote ${values.out} (${doc.tables.length} tables)\n`);
      } else if (json) writeJson({ ...doc, undocumented: missing });
      else process.stdout.write(md);
      return 0;
    } finally {
      if (fresh) await dropSchema(pool, schema).catch(() => {});
      await pool.end();
    }
  },
};
