/**
 * `createTestDatabase()`: a fresh, migrated schema of its own on the test server, a Jobline
 * connected to it, and the helpers bound to it. Each test file (or test) calls it once; files
 * then run in parallel without seeing each other's jobs, workers or leases. `close()` drops
 * the schema and releases the server.
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import pino, { type Logger } from 'pino';
import { Jobline, type ConnectOptions, type EnqueueSpec, type Handlers, type Job } from '@jobline/core';
import { enqueued, expectEnqueued, expectNotEnqueued, type JobMatch } from './assertions.js';
import { reset } from './reset.js';
import { drain, runJob, type DrainOptions, type DrainResult, type RunJobOptions, type RunJobResult } from './run-job.js';
import { seed, type SeedData, type SeedResult } from './seed.js';
import { acquireServer, type ContainerOptions, type Server } from './server.js';
import { internals } from '@jobline/core/internal';

export interface TestDatabaseOptions {
  /** Server to use. @default process.env.DATABASE_URL, else an embedded PostgreSQL shared by the process */
  databaseUrl?: string;
  /** Start a PostgreSQL container through testcontainers instead (needs a Docker-compatible engine). */
  container?: boolean | ContainerOptions;
  /** Schema name. @default jl_test_<random> */
  schema?: string;
  /** Logger of the Jobline. @default a silent one (LOG_LEVEL=debug shows every statement) */
  logger?: Logger;
  /** Further Jobline.connect options (NATS, limits, …). No NATS relay by default. */
  connect?: Omit<ConnectOptions, 'databaseUrl' | 'schema' | 'logger'>;
}

export class TestDatabase {
  private closed = false;
  constructor(
    readonly jl: Jobline,
    /** Connection string of the server (the schema is not part of it). */
    readonly url: string,
    readonly schema: string,
    private readonly server: Server,
  ) {}

  /** The quoted schema, for SQL: `select * from ${db.s}.jobs`. */
  get s(): string {
    return internals(this.jl).s;
  }

  /** Rows of a plain SQL statement on the test database. */
  async sql<R extends pg.QueryResultRow = Record<string, any>>(text: string, values?: unknown[]): Promise<R[]> {
    return (await internals(this.jl).pool.query<R>(text, values)).rows;
  }

  /** Empties every table but the migration ledger. */
  reset(): Promise<void> {
    return reset(this.jl);
  }

  /** Idempotent seed data: queues, definitions, constraints, actions, schedules, tenants (wallets), jobs. */
  seed(data: SeedData): Promise<SeedResult> {
    return seed(this.jl, data);
  }

  /** Enqueues `job` (or takes job `id`) and runs it through a real worker; its outcome and history. */
  runJob<O = unknown>(handlers: Handlers, job: EnqueueSpec | number, o?: RunJobOptions): Promise<RunJobResult<O>> {
    return runJob<O>(this.jl, handlers, job, o);
  }

  /** Runs the queue(s) until nothing is available, running or due. */
  drain(queue: string | string[], handlers: Handlers, o?: DrainOptions): Promise<DrainResult> {
    return drain(this.jl, queue, handlers, o);
  }

  /** Jobs matching (waiting to run, unless `state` says otherwise). */
  enqueued(m?: JobMatch): Promise<Job[]> {
    return enqueued(this.jl, m);
  }

  expectEnqueued(m: JobMatch, opts?: { count?: number }): Promise<Job[]> {
    return expectEnqueued(this.jl, m, opts);
  }

  expectNotEnqueued(m: JobMatch): Promise<void> {
    return expectNotEnqueued(this.jl, m);
  }

  /** Closes the Jobline (stopping its workers), drops the schema and releases the server. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.jl.close();
    const admin = new pg.Client({ connectionString: this.url });
    try {
      await admin.connect();
      await admin.query(`drop schema if exists "${this.schema.replace(/"/g, '""')}" cascade`);
    } finally {
      await admin.end().catch(() => {});
      await this.server.release();
    }
  }
}

export async function createTestDatabase(o: TestDatabaseOptions = {}): Promise<TestDatabase> {
  const server = await acquireServer(o);
  const schema = o.schema ?? `jl_test_${process.pid}_${randomBytes(4).toString('hex')}`;
  try {
    const logger = o.logger ?? pino({ level: process.env.LOG_LEVEL === 'debug' ? 'debug' : 'silent' });
    const jl = await Jobline.connect({ natsUrl: '', poolSize: 5, ...o.connect, databaseUrl: server.url, schema, logger, migrate: true });
    return new TestDatabase(jl, server.url, schema, server);
  } catch (err) {
    await server.release();
    throw err;
  }
}
