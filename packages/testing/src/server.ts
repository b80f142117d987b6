/**
 * Where test databases live: DATABASE_URL when set, else one embedded PostgreSQL per process,
 * started on first use and stopped when the last test database of the process closes (in
 * practice once per test file; `@jobline/testing/vitest-global-setup` shares one server across
 * a whole vitest run instead). `container: true` asks ./container.js (testcontainers) for one.
 */
import { startEmbeddedPostgres, type EmbeddedPostgres } from '@jobline/embedded';

export interface ContainerOptions {
  /** PostgreSQL image to run. */
  image?: string;
  [key: string]: unknown;
}

export interface Server {
  url: string;
  release(): Promise<void>;
}

let embedded: Promise<EmbeddedPostgres> | undefined;
let users = 0;

async function sharedEmbedded(): Promise<Server> {
  users++;
  embedded ??= startEmbeddedPostgres();
  let server: EmbeddedPostgres;
  try {
    server = await embedded;
  } catch (err) {
    users--;
    embedded = undefined;
    throw err;
  }
  let released = false;
  return {
    url: server.url,
    async release() {
      if (released) return;
      released = true;
      if (--users > 0) return;
      embedded = undefined;
      await server.stop();
    },
  };
}

async function container(opts: ContainerOptions): Promise<Server> {
  // Imported only when asked for: ./container.js loads testcontainers (an optional peer) lazily too.
  const { startPostgresContainer } = await import('./container.js');
  const c = await startPostgresContainer(opts);
  return { url: c.url, release: () => c.stop() };
}

export function acquireServer(o: { databaseUrl?: string; container?: boolean | ContainerOptions }): Promise<Server> {
  if (o.container) return container(o.container === true ? {} : o.container);
  const url = o.databaseUrl ?? process.env.DATABASE_URL;
  if (url) return Promise.resolve({ url, release: async () => {} });
  return sharedEmbedded();
}
