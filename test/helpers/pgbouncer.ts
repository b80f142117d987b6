/**
 * A PgBouncer of the test's own (Debian's package; under CI=true a missing binary fails the
 * test): transaction mode, its own port and config dir, in front of the given PostgreSQL.
 * Runs in the foreground as user postgres (PgBouncer refuses root) and is killed by pid.
 */
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync, chownSync, readFileSync } from 'node:fs';
import { createServer, connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const find = () => ['/usr/sbin/pgbouncer', '/usr/bin/pgbouncer'].find((p) => existsSync(p));
/**
 * Under CI a missing pgbouncer is installed (Debian's package), as the CI steps do: the plain
 * `npm test` steps of .ci/run come before .ci/steps/40-pgbouncer.sh. Outside CI it is not, and
 * startPgBouncer() fails naming the package — never a skip.
 */
export const PGBOUNCER = find() ?? (process.env.CI === 'true' ? installPgBouncer() : undefined);

function installPgBouncer(): string | undefined {
  try {
    execFileSync('apt-get', ['install', '-y', 'pgbouncer'], { stdio: 'inherit' });
  } catch {
    /* reported by startPgBouncer */
  }
  return find();
}

export interface PgBouncer {
  port: number;
  url(db?: string): string;
  /** `SHOW …` on the admin console (e.g. 'pools', 'servers'). */
  show(what: string): Promise<Record<string, string>[]>;
  stop(): Promise<void>;
  dir: string;
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
    s.on('error', reject);
  });
}

function uidOf(user: string): { uid: number; gid: number } | undefined {
  if (process.getuid?.() !== 0) return undefined;
  const uid = Number(execFileSync('id', ['-u', user]).toString().trim());
  const gid = Number(execFileSync('id', ['-g', user]).toString().trim());
  return { uid, gid };
}

/** In front of the PostgreSQL of `target` (a postgres:// URL): same user, password and database. */
export async function startPgBouncer(target: string, opts: { poolSize?: number; extraIgnore?: string[] } = {}): Promise<PgBouncer> {
  const t = new URL(target);
  const user = decodeURIComponent(t.username || 'postgres');
  const password = decodeURIComponent(t.password);
  const database = t.pathname.slice(1) || 'postgres';
  if (!PGBOUNCER) throw new Error('pgbouncer is not installed: apt-get install -y pgbouncer (CI installs it in .ci/steps/40-pgbouncer.sh)');
  const dir = mkdtempSync(join(tmpdir(), 'jobline-pgb-'));
  const port = await freePort();
  writeFileSync(join(dir, 'userlist.txt'), `"${user}" "${password}"\n`);
  writeFileSync(
    join(dir, 'pgbouncer.ini'),
    [
      '[databases]',
      `* = host=${t.hostname === 'localhost' ? '127.0.0.1' : t.hostname} port=${t.port || 5432}`,
      '[pgbouncer]',
      'listen_addr = 127.0.0.1',
      `listen_port = ${port}`,
      'unix_socket_dir =',
      password ? 'auth_type = plain' : 'auth_type = trust',
      `auth_file = ${join(dir, 'userlist.txt')}`,
      'pool_mode = transaction',
      'max_client_conn = 1000',
      `default_pool_size = ${opts.poolSize ?? 10}`,
      'server_reset_query =',
      `admin_users = ${user}`,
      `ignore_startup_parameters = ${['extra_float_digits', ...(opts.extraIgnore ?? [])].join(',')}`,
      `logfile = ${join(dir, 'pgbouncer.log')}`,
      '',
    ].join('\n'),
  );
  const ids = uidOf('postgres');
  if (ids) chownSync(dir, ids.uid, ids.gid);
  const child: ChildProcess = spawn(PGBOUNCER, [join(dir, 'pgbouncer.ini')], { stdio: 'ignore', ...(ids ?? {}) });
  const exited = new Promise<void>((r) => child.on('exit', () => r()));
  // Ready when the port accepts.
  const deadline = Date.now() + 10_000;
  for (;;) {
    const ok = await new Promise<boolean>((r) => {
      const s = connect(port, '127.0.0.1', () => (s.destroy(), r(true)));
      s.on('error', () => r(false));
    });
    if (ok) break;
    if (child.exitCode !== null || Date.now() > deadline) {
      const log = existsSync(join(dir, 'pgbouncer.log')) ? readFileSync(join(dir, 'pgbouncer.log'), 'utf8') : '';
      throw new Error(`pgbouncer did not start on port ${port}: ${log.slice(-2000)}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  const auth = `${encodeURIComponent(user)}${password ? `:${encodeURIComponent(password)}` : ''}`;
  const url = (db = database) => `postgres://${auth}@127.0.0.1:${port}/${db}`;
  return {
    port,
    dir,
    url,
    async show(what) {
      const pg = (await import('pg')).default;
      // The admin console speaks only the simple query protocol.
      const c = new pg.Client({ connectionString: url('pgbouncer') });
      await c.connect();
      try {
        return (await c.query(`show ${what}`)).rows;
      } finally {
        await c.end();
      }
    },
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
}
