import { parseArgs } from 'node:util';
import { JoblineError, ValidationError, VERSION } from '@jobline/core';
import { apps as subcommands } from './commands/index.js';
import { demo } from './demo/command.js';
import type { Command } from './context.js';
import { ExitCode, UsageError } from './errors.js';

const GLOBAL = `Global options: --json (machine-readable output), --help/-h, --version.
Exit codes: 0 ok, 1 the operation failed, 2 bad usage or configuration.`;

/** Every command, in the order `jobline --help` lists them: the demo first. */
const apps: Command[] = [demo, ...subcommands];

export function mainHelp(commands: Command[]): string {
  const w = Math.max(...commands.map((c) => c.name.length));
  return `jobline ${VERSION} — PostgreSQL-backed job queue

Usage: jobline <command> [options]

Commands:
${commands.map((c) => `  ${c.name.padEnd(w)}  ${c.summary}`).join('\n')}

Run \`jobline <command> --help\` for a command's options.
${GLOBAL}
Environment: DATABASE_URL (required except for demo), JOBLINE_SCHEMA, LOG_LEVEL.
`;
}

const commandHelp = (c: Command) => `Usage: jobline ${c.usage}\n\n${c.summary}\n\n${c.help}\n\n${GLOBAL}\n`;

/** Runs the CLI; resolves with the exit code. */
export async function run(argv: string[], commands: Command[] = apps): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    const topic = name === 'help' ? commands.find((c) => c.name === rest[0]) : undefined;
    process.stdout.write(topic ? commandHelp(topic) : mainHelp(commands));
    return name === undefined ? ExitCode.usage : ExitCode.ok;
  }
  if (name === '--version' || name === '-v') {
    process.stdout.write(`${VERSION}\n`);
    return ExitCode.ok;
  }
  const command = commands.find((c) => c.name === name);
  if (!command) {
    process.stderr.write(`jobline: unknown command ${JSON.stringify(name)}\n\n${mainHelp(commands)}`);
    return ExitCode.usage;
  }
  if (rest[0] === '--help' || rest[0] === '-h' || (!command.passThrough && (rest.includes('--help') || rest.includes('-h')))) {
    process.stdout.write(commandHelp(command));
    return ExitCode.ok;
  }
  let json = false;
  try {
    if (command.passThrough) return await command.run({ values: {}, positionals: [], json: false, rest });
    const { values, positionals } = parseArgs({
      args: rest,
      options: { ...command.options, json: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } },
      allowPositionals: true,
      strict: true,
    });
    json = values.json === true;
    return await command.run({ values, positionals, json, rest });
  } catch (err) {
    return report(err, command, json);
  }
}

function report(err: unknown, command: Command, json: boolean): number {
  const usage =
    err instanceof UsageError || err instanceof ValidationError || (err as { code?: string }).code?.startsWith('ERR_PARSE_ARGS');
  const code = usage ? ExitCode.usage : ExitCode.failure;
  if (json) {
    const e = err as Error & { code?: string; issues?: unknown };
    process.stdout.write(
      JSON.stringify({
        error: { code: e.code ?? (usage ? 'USAGE' : 'ERROR'), message: e.message, ...(e.issues ? { issues: e.issues } : {}) },
      }) + '\n',
    );
  }
  if (err instanceof ValidationError) {
    process.stderr.write(
      `jobline ${command.name}: invalid input:\n${err.issues.map((i) => `  - ${i.path || '(input)'}: ${i.message}`).join('\n')}\n`,
    );
  } else if (usage) {
    process.stderr.write(`jobline ${command.name}: ${(err as Error).message}\nusage: jobline ${command.usage}\n`);
  } else if (err instanceof JoblineError) {
    process.stderr.write(`jobline ${command.name}: ${err.message}\n`);
  } else {
    const e = err as Error & { code?: string };
    // Connection problems are common and their stack says nothing useful; nor does the embedded
    // server's one-line error (it names the directory and the fix).
    const conn =
      e.code === 'ECONNREFUSED' || e.code === 'ENOTFOUND' || e.code === '28P01' || e.code === '3D000' || e.code === 'EMBEDDED_POSTGRES';
    process.stderr.write(`jobline ${command.name}: ${conn ? `cannot use the database: ${e.message}` : (e.stack ?? String(err))}\n`);
  }
  return code;
}
