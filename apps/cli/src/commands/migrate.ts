import { readMigrations } from '@jobline/core';
import { connect, type Command } from '../context.js';
import { writeJson } from '../output.js';

export const migrate: Command = {
  name: 'migrate',
  summary: 'apply pending database migrations',
  usage: 'migrate [--json]',
  help: `Applies the numbered SQL files in migrations/ that the database does not have yet, each in
its own transaction, under an advisory lock (safe to run from many processes at once).
Applied files are checked against their checksums: an edited migration stops everything.

Environment: DATABASE_URL (required), JOBLINE_SCHEMA (default "jobline").`,
  async run({ json }) {
    const jl = await connect();
    try {
      const r = await jl.migrate();
      const files = await readMigrations();
      if (json) writeJson({ schema: jl.schema, applied: r.applied, current: r.current, joblineVersion: r.joblineVersion });
      else if (r.applied.length) process.stdout.write(`applied ${r.applied.length} migration(s) to schema "${jl.schema}":\n${r.applied.map((a) => `  ${a}\n`).join('')}now at version ${r.current} (@jobline/core ${r.joblineVersion})\n`);
      else process.stdout.write(`schema "${jl.schema}" is up to date (version ${r.current}, ${files.length} migration(s) of @jobline/core ${r.joblineVersion})\n`);
      return 0;
    } finally {
      await jl.close();
    }
  },
};
