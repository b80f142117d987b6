import { createHash, randomBytes } from 'node:crypto';
import type { Command } from '../context.js';
import { UsageError } from '../errors.js';
import { PRODUCER_MAIN, runApp } from './spawn-app.js';

/**
 * `jobline dashboard`: the producer with its dashboard, pointed at any DATABASE_URL, for a
 * person at this machine. It listens on 127.0.0.1 unless told otherwise, does not migrate the
 * database (a look must not change a schema: JOBLINE_MIGRATE=on to allow it), and when no
 * JOBLINE_API_TOKENS are configured it makes a one-off token (read, write, admin, every queue),
 * configures only its SHA-256, and prints a sign-in link that carries the token in the URL
 * fragment, which browsers never send to a server or a proxy log.
 */
export const dashboard: Command = {
  name: 'dashboard',
  summary: 'serve the web dashboard (/ui/) against DATABASE_URL',
  usage: 'dashboard [--port N] [--host H] [--pretty]',
  help: `Runs the producer with the dashboard on http://127.0.0.1:8080/ui/ (PORT/--port, HOST/--host):
queues with depth, throughput, failure rate and pickup latency; workers; jobs with their attempts
(retry, cancel, bulk retry); DAG runs drawn as graphs; schedules; queue pause/resume and limits.

Without JOBLINE_API_TOKENS (and without JOBLINE_AUTH=off) a one-off token is made for this run
and a sign-in link is printed. With tokens configured, sign in with one of them: read scope to
look, write scope to act. Migrations are not applied unless JOBLINE_MIGRATE=on.

Environment: DATABASE_URL (required), JOBLINE_SCHEMA, PORT, HOST, JOBLINE_API_TOKENS, JOBLINE_AUTH.`,
  passThrough: true,
  async run({ rest }) {
    if (!process.env.DATABASE_URL) {
      throw new UsageError('DATABASE_URL is not set: point it at the Jobline database to look at (e.g. postgres://user@host:5432/db)');
    }
    const env: NodeJS.ProcessEnv = { ...process.env };
    env.HOST ??= '127.0.0.1';
    env.JOBLINE_MIGRATE ??= 'off';
    let token: string | undefined;
    if (!env.JOBLINE_API_TOKENS && env.JOBLINE_AUTH !== 'off') {
      token = randomBytes(24).toString('hex');
      const sha256 = createHash('sha256').update(token).digest('hex');
      env.JOBLINE_API_TOKENS = JSON.stringify([{ name: 'dashboard', sha256, queues: ['*'], scopes: ['read', 'write', 'admin'] }]);
    }
    return runApp(PRODUCER_MAIN, rest, env, (line) => {
      const m = /listening on (\S+)/.exec(line);
      if (!m) return;
      const ui = `${m[1]}/ui/`;
      process.stderr.write(
        token
          ? `\nDashboard: ${ui}#token=${token}\n(one-off token for this run; Ctrl-C stops)\n\n`
          : `\nDashboard: ${ui} (sign in with a token from JOBLINE_API_TOKENS)\n\n`,
      );
    });
  },
};
