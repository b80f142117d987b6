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

interface ContainerModule {
  startPostgresContainer(opts: ContainerOptions): Promise<{ url: string; stop(): Promise<void> }>;
}

async function container(opts: ContainerOptions): Promise<Server> {
  let mod: ContainerModule;
  try {
    // A variable specifier: the container support is optional and its module may be absent.
    const path = './container.js';
    mod = (await import(path)) as ContainerModule;
  } catch (err) {
    throw new Error(
      'createTestDatabase({ container: true }): this build of @jobline/testing has no container support ' +
        `(./container.js could not be loaded: ${(err as Error).message}). Use DATABASE_URL or the embedded server (omit \`container\`).`,
      { cause: err },
    );
  }
  const c = await mod.startPostgresContainer(opts);
  return { url: c.url, release: () => c.stop() };
}

export function acquireServer(o: { databaseUrl?: string; container?: boolean | ContainerOptions }): Promise<Server> {
  if (o.container) return container(o.container === true ? {} : o.container);
  const url = o.databaseUrl ?? process.env.DATABASE_URL;
  if (url) return Promise.resolve({ url, release: async () => {} });
  return sharedEmbedded();
}
