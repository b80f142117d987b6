import pg from 'pg';
import { instrumentedClient, type QueryLogOptions } from './query-log.js';
import { parseTimestamptz } from './timestamptz.js';

/** Anything that can run a query: the pool, a checked-out client, or a caller's transaction. */
export type Queryable = Pick<pg.Pool, 'query'> | Pick<pg.PoolClient, 'query'>;

const parseInt8 = (v: string): number => Number(v);

/**
 * Type parsing of Jobline's own connections. BIGINT ids come back as strings by default; ours
 * stay far below 2^53, so they are parsed as numbers — per pool/client through pg's `types`
 * option, never with the global pg.types.setTypeParser, which would change every other pg
 * client in the application (test/pg-types.test.ts checks importing core leaves it alone).
 */
export const pgTypes: pg.CustomTypesConfig = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
    format === 'binary'
      ? pg.types.getTypeParser(oid, format)
      : oid === pg.types.builtins.INT8
        ? parseInt8
        : // timestamptz by position instead of postgres-date's regular expressions (db/timestamptz.ts)
          oid === pg.types.builtins.TIMESTAMPTZ
          ? parseTimestamptz
          : pg.types.getTypeParser(oid, format)) as pg.CustomTypesConfig['getTypeParser'],
};

export interface PoolOptions {
  connectionString: string;
  /** @default 10 */
  max?: number;
  applicationName?: string;
  /** Extra pg settings (timeouts, keepalive, a Client class): db/connection-options.ts. */
  extra?: Partial<pg.PoolConfig>;
  /** Log and time every statement (db/query-log.ts). */
  queryLog?: QueryLogOptions;
}

export function createPool(opts: PoolOptions): pg.Pool {
  const pool = new pg.Pool({
    connectionString: opts.connectionString,
    max: opts.max ?? 10,
    types: pgTypes,
    application_name: opts.applicationName ?? 'jobline',
    // Keep idle connections: reconnecting costs more than it saves for a busy worker.
    idleTimeoutMillis: 30_000,
    connectionTimeoutMillis: 10_000,
    keepAlive: true,
    ...opts.extra,
    // Statement timing and logging (db/query-log.ts) wraps the Client class `extra` brings, if any.
    Client: opts.queryLog
      ? instrumentedClient(opts.queryLog, (opts.extra?.Client as typeof pg.Client | undefined) ?? pg.Client)
      : opts.extra?.Client,
  });
  // A backend killed under an idle client must not crash the process; the pool replaces it.
  pool.on('error', () => {});
  // Nor under a checked-out client between two queries (inside a transaction): pg emits 'error'
  // on the client, which would be unhandled. The next query on it fails, the transaction rolls
  // back, and the broken client is destroyed on release. Found by the pg_terminate_backend
  // fault scenario (a worker exited 1).
  pool.on('connect', (client) => client.on('error', () => {}));
  return pool;
}

/** Runs `fn` in a transaction on its own client; rolls back on any error. */
export async function withTransaction<T>(pool: pg.Pool, fn: (client: pg.PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  let broken = false;
  try {
    await client.query('begin');
    const result = await fn(client);
    await client.query('commit');
    return result;
  } catch (err) {
    try {
      await client.query('rollback');
    } catch {
      broken = true;
    }
    throw err;
  } finally {
    client.release(broken);
  }
}

/** Runs `fn` inside the caller's transaction when given one, else in a fresh transaction. */
export function inTransaction<T>(pool: pg.Pool, tx: Queryable | undefined, fn: (q: Queryable) => Promise<T>): Promise<T> {
  return tx ? fn(tx) : withTransaction(pool, fn);
}
