/**
 * A throwaway PostgreSQL server in a container, through `testcontainers` — the engine behind
 * `createTestDatabase({ container: true })`, e.g. to run a suite against another PostgreSQL major.
 *
 * - `testcontainers` is an optional peer dependency, loaded only here and only when asked
 *   (`npm i -D testcontainers`); without it the call fails with one line saying so.
 * - The engine is whatever testcontainers finds: `DOCKER_HOST`, else `JOBLINE_DOCKER_SOCKET`
 *   (Jobline's own name for the socket), else its usual discovery (`/var/run/docker.sock`, …).
 *   Podman's Docker-API service works (`podman system service unix:///…/podman.sock`).
 * - The image is `opts.image`, else `JOBLINE_TEST_POSTGRES_IMAGE`, else `postgres:17`. It must
 *   read POSTGRES_USER / POSTGRES_PASSWORD / POSTGRES_DB and listen on 5432 as the official image
 *   does (the local `localhost/jobline-postgres:15` made by .ci/images/lib.sh does too). It is
 *   never pulled when it exists locally.
 * - Cleanup: `stop()` removes the container. testcontainers' Ryuk reaper also removes it if the
 *   test process dies, but Ryuk is itself an image (testcontainers/ryuk) that a machine without a
 *   registry cannot pull; there, set TESTCONTAINERS_RYUK_DISABLED=true. Every container carries
 *   labels (creating pid and host), and each start removes those left by a process on this host
 *   that no longer runs — the reaper's job, done without its image.
 * - Data lives on a tmpfs with fsync off: a test database needs speed, not durability.
 */
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type * as Testcontainers from 'testcontainers';

export interface PostgresContainerOptions {
  /** Image to run. @default process.env.JOBLINE_TEST_POSTGRES_IMAGE ?? 'postgres:17' */
  image?: string;
  /** Database created in the container. @default 'jobline_test' */
  database?: string;
  /** Superuser created in the container. @default 'jobline' */
  user?: string;
  /** Its password. @default random per container */
  password?: string;
  /** How long the server may take to accept connections. @default 60_000 */
  startupTimeoutMs?: number;
  /** Extra server settings, passed as `-c key=value`. @default { fsync: 'off', synchronous_commit: 'off', full_page_writes: 'off' } */
  settings?: Record<string, string>;
}

export interface StartedPostgres {
  /** postgres://user:password@host:port/database, reachable from the test process. */
  url: string;
  /** Stops and removes the container (idempotent). */
  stop(): Promise<void>;
}

const LABEL = 'dev.jobline.testing';
const LABEL_PID = `${LABEL}.pid`;
const LABEL_HOST = `${LABEL}.host`;
const DEFAULT_IMAGE = 'postgres:17';
const FAST_SETTINGS = { fsync: 'off', synchronous_commit: 'off', full_page_writes: 'off' };

export async function startPostgresContainer(opts: PostgresContainerOptions = {}): Promise<StartedPostgres> {
  const tc = await loadTestcontainers();
  const image = opts.image ?? process.env.JOBLINE_TEST_POSTGRES_IMAGE ?? DEFAULT_IMAGE;
  const user = opts.user ?? 'jobline';
  const database = opts.database ?? 'jobline_test';
  const password = opts.password ?? randomBytes(12).toString('hex');
  const settings = { ...FAST_SETTINGS, ...opts.settings };
  await reapOrphans(tc);

  let started: Testcontainers.StartedTestContainer;
  try {
    started = await new tc.GenericContainer(image)
      .withEnvironment({ POSTGRES_USER: user, POSTGRES_PASSWORD: password, POSTGRES_DB: database })
      .withCommand(['postgres', ...Object.entries(settings).flatMap(([k, v]) => ['-c', `${k}=${v}`])])
      .withExposedPorts(5432)
      .withTmpFs({ '/var/lib/postgresql/data': 'rw' })
      .withLabels({ [LABEL]: 'postgres', [LABEL_PID]: String(process.pid), [LABEL_HOST]: hostname() })
      // Ready = the final server answers on TCP inside the container. The official image's
      // first, socket-only setup server does not count (pg_isready over 127.0.0.1 fails on it).
      .withWaitStrategy(tc.Wait.forSuccessfulCommand(`pg_isready -h 127.0.0.1 -p 5432 -U ${user} -d ${database}`))
      .withStartupTimeout(opts.startupTimeoutMs ?? 60_000)
      .start();
  } catch (err) {
    throw new Error(
      `could not start a PostgreSQL container from image "${image}" (${(err as Error).message.split('\n')[0]}); ` +
        'check DOCKER_HOST / JOBLINE_DOCKER_SOCKET points at a running engine, that the image exists or can be pulled, ' +
        'and set TESTCONTAINERS_RYUK_DISABLED=true where the reaper image cannot be pulled',
      { cause: err },
    );
  }
  // IPv4 loopback rather than "localhost": published ports are bound on IPv4 by every engine.
  const host = started.getHost() === 'localhost' ? '127.0.0.1' : started.getHost();
  const url = `postgres://${encodeURIComponent(user)}:${encodeURIComponent(password)}@${host}:${started.getMappedPort(5432)}/${encodeURIComponent(database)}`;
  let stopping: Promise<void> | undefined;
  return {
    url,
    stop: () => (stopping ??= started.stop({ timeout: 10_000 }).then(() => undefined)),
  };
}

async function loadTestcontainers(): Promise<typeof Testcontainers> {
  // Jobline's own socket variable, for testcontainers which reads only DOCKER_HOST.
  if (!process.env.DOCKER_HOST && process.env.JOBLINE_DOCKER_SOCKET) {
    process.env.DOCKER_HOST = `unix://${process.env.JOBLINE_DOCKER_SOCKET}`;
  }
  try {
    return await import('testcontainers');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ERR_MODULE_NOT_FOUND') {
      throw new Error('createTestDatabase({ container: true }) needs the testcontainers package: npm install --save-dev testcontainers', {
        cause: err,
      });
    }
    throw err;
  }
}

/** Removes containers of ours whose creating process (on this host) is gone. */
async function reapOrphans(tc: typeof Testcontainers): Promise<void> {
  const client = await tc.getContainerRuntimeClient();
  const mine = (await client.container.list()).filter((c) => c.Labels?.[LABEL] === 'postgres' && c.Labels[LABEL_HOST] === hostname());
  await Promise.all(
    mine
      .filter((c) => !isAlive(Number(c.Labels[LABEL_PID])))
      .map((c) =>
        client.container
          .getById(c.Id)
          .remove({ force: true, v: true })
          .catch(() => undefined),
      ),
  );
}

function isAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
