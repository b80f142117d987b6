import { readFile } from 'node:fs/promises';
import { connect, type Command } from '../context.js';
import { UsageError } from '../errors.js';
import { table, writeJson } from '../output.js';

export const definitions: Command = {
  name: 'definitions',
  summary: 'register or list job definitions (the registry of what can run)',
  usage: 'definitions list [--name N] [--json] | definitions create <file.json> [--json]',
  help: `A definition names an executor — "handler" (a function in the worker's handler module),
"process" (a command the worker spawns, input on stdin, JSON output on stdout) or "container"
(an image run through the Docker Engine API, the same input/output contract) — with default
env, resource hints, an input JSON schema and default queue/retries/timeout. See apps/README.md.

  jobline definitions create thumbnail.json   # creates the next version, or reports it unchanged
  jobline definitions list
  jobline enqueue media - --definition thumbnail --input '{"image":"a.png","width":128}'`,
  options: { name: { type: 'string' } },
  async run({ positionals, values, json }) {
    const [sub, file, ...extra] = positionals;
    if (extra.length) throw new UsageError(`unexpected argument ${JSON.stringify(extra[0])}`);
    if (sub === 'create') {
      if (!file) throw new UsageError('give the definition file');
      let spec: unknown;
      try {
        spec = JSON.parse(await readFile(file, 'utf8'));
      } catch (err) {
        throw new UsageError(`cannot read ${file} as JSON: ${(err as Error).message}`);
      }
      const jl = await connect();
      try {
        const r = await jl.createDefinition(spec as never);
        if (json) writeJson({ ...r.definition, created: r.created });
        else
          process.stdout.write(
            `${r.created ? 'registered' : 'unchanged:'} ${r.definition.name}@${r.definition.version} (${r.definition.executor})\n`,
          );
        return 0;
      } finally {
        await jl.close();
      }
    }
    if (sub === 'list') {
      if (file) throw new UsageError(`unexpected argument ${JSON.stringify(file)}`);
      const jl = await connect();
      try {
        const defs = await jl.listDefinitions(values.name ? { name: String(values.name) } : {});
        if (json) writeJson(defs);
        else
          process.stdout.write(
            table(defs, [
              { header: 'NAME', get: (d) => d.name },
              { header: 'VERSION', get: (d) => d.version, right: true },
              { header: 'EXECUTOR', get: (d) => d.executor },
              { header: 'COMMAND', get: (d) => (d.command ? [d.command, ...d.args].join(' ') : undefined), max: 50 },
              { header: 'QUEUE', get: (d) => d.defaults.queue },
              { header: 'CREATED', get: (d) => d.createdAt.toISOString() },
            ]),
          );
        return 0;
      } finally {
        await jl.close();
      }
    }
    throw new UsageError(
      sub ? `unknown definitions subcommand ${JSON.stringify(sub)}` : 'use: definitions list | definitions create <file>',
    );
  },
};
