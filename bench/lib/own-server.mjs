/**
 * `--server own`: the bench starts its own PostgreSQL cluster (PostgreSQL 15 binaries from
 * /usr/lib/postgresql/15/bin, or BENCH_PG_BIN) in a temporary directory, so the run has the server
 * to itself: pg_stat_statements preloaded, WAL counters that only this run moves, no other
 * client's connections. Durable commits (fsync, synchronous_commit and full_page_writes stay on);
 * max_connections 200 (4 worker processes × their pools and the producer stay well under it).
 * Runs as the `postgres` OS user when started as root (initdb refuses root). Removed at the end.
 */
import { spawn, spawnSync } from 'node:child_process';
import { chownSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sleep } from './clock.mjs';

const BIN = process.env.BENCH_PG_BIN ?? '/usr/lib/postgresql/15/bin';
const PORT = Number(process.env.BENCH_PG_PORT ?? 55432);

export const OWN_SETTINGS = {
  shared_preload_libraries: 'pg_stat_statements',
  'pg_stat_statements.track': 'top',
  // Plans per call show a statement that is re-planned on every execution (custom plans): the
  // plain claim was, ~0.5 ms of a 4 ms claim of 200 (bench/README.md, "Planning of the plain claim").
  'pg_stat_statements.track_planning': 'on',
  max_connections: '200',
  shared_buffers: '512MB',
  max_wal_size: '4GB',
  checkpoint_timeout: '15min',
  listen_addresses: '127.0.0.1',
};

function asPostgres(cmd, args) {
  const root = process.getuid?.() === 0;
  return root ? ['runuser', ['-u', 'postgres', '--', cmd, ...args]] : [cmd, args];
}

/** Starts the cluster; returns `{ url, dir, stop() }`. */
export async function startOwnServer(log) {
  const dir = mkdtempSync(join(tmpdir(), 'jobline-bench-pg-'));
  const data = join(dir, 'data');
  if (process.getuid?.() === 0) {
    const { uid, gid } = pgUser();
    chownSync(dir, uid, gid);
  }
  const [c1, a1] = asPostgres(join(BIN, 'initdb'), ['-D', data, '-U', 'postgres', '--auth=trust', '--no-instructions', '-E', 'UTF8']);
  const init = spawnSync(c1, a1, { encoding: 'utf8' });
  if (init.status !== 0) throw new Error(`initdb failed (${init.status}): ${init.stderr || init.stdout}`);
  const opts = Object.entries({ ...OWN_SETTINGS, port: String(PORT), unix_socket_directories: dir }).flatMap(([k, v]) => [
    '-c',
    `${k}=${v}`,
  ]);
  const [c2, a2] = asPostgres(join(BIN, 'postgres'), ['-D', data, ...opts]);
  const proc = spawn(c2, a2, { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  proc.stderr.on('data', (d) => (stderr = (stderr + d).slice(-4000)));
  const url = `postgres://postgres@127.0.0.1:${PORT}/postgres`;
  const pg = (await import('pg')).default;
  for (let i = 0; ; i++) {
    if (proc.exitCode !== null) throw new Error(`own PostgreSQL exited (${proc.exitCode}): ${stderr}`);
    const c = new pg.Client({ connectionString: url });
    try {
      await c.connect();
      await c.query('create extension if not exists pg_stat_statements');
      await c.end();
      break;
    } catch (err) {
      await c.end().catch(() => {});
      if (i > 300) throw new Error(`own PostgreSQL did not accept connections: ${err.message}; ${stderr}`);
      await sleep(100);
    }
  }
  log(`own PostgreSQL cluster in ${data} on port ${PORT} (pg_stat_statements preloaded, durable commits)`);
  return {
    url,
    dir,
    async stop() {
      // pg_ctl waits until the server is down, so the directory can go.
      const [c3, a3] = asPostgres(join(BIN, 'pg_ctl'), ['stop', '-D', data, '-m', 'fast', '-w']);
      const r = spawnSync(c3, a3, { encoding: 'utf8' });
      if (r.status !== 0) proc.kill('SIGINT');
      await new Promise((res) => (proc.exitCode !== null ? res() : proc.once('exit', res)));
      rmSync(dir, { recursive: true, force: true, maxRetries: 5 });
    },
  };
}

function pgUser() {
  const r = spawnSync('id', ['-u', 'postgres'], { encoding: 'utf8' });
  const g = spawnSync('id', ['-g', 'postgres'], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error('--server own as root needs the postgres OS user (initdb refuses to run as root)');
  return { uid: Number(r.stdout), gid: Number(g.stdout) };
}
