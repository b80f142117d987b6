/**
 * Connection settings for production topologies: a transaction-mode pooler (PgBouncer, RDS
 * Proxy, Supavisor) in front of PostgreSQL, a direct URL beside it, and the timeouts that keep a
 * process from hanging on a dead or half-open connection.
 *
 * Behind a transaction pooler consecutive statements of one client connection may run on
 * different server connections, so session state breaks: named prepared statements ("prepared
 * statement … already exists" / "does not exist"), session advisory locks, `SET` outside a
 * transaction, LISTEN. Jobline's hot path keeps none of that except named statements, which are
 * turned off here (pooler mode) by a pg `Client` subclass — every call site stays as it is.
 *
 * Detection (`pooler: 'auto'`, the default), both reliable signals:
 *   1. At connect, a probe connection sends `statement_timeout` as a startup parameter. PgBouncer
 *      (any version, unless `ignore_startup_parameters` lists it) refuses the connection with
 *      "unsupported startup parameter": transaction-pooler mode from the start.
 *   2. Any named statement failing with 42P05 (already exists) or 26000 (does not exist) proves
 *      the statement met another server connection than the one it was prepared on: named
 *      statements are switched off for the whole pool at once, and the statement is retried
 *      unnamed when it ran outside a transaction (both errors come before anything executes).
 *      Inside a transaction the transaction is already aborted; the caller's retry (claim loop,
 *      completer) runs it again, unnamed.
 */
import pg from 'pg';
import { z } from 'zod';
import { parseOrThrow } from './parse.js';

export const PoolerMode = {
  /** Detect (see the module comment). */
  auto: 'auto',
  /** Direct PostgreSQL or a session-mode pooler: named statements, LISTEN on the pool's URL. */
  none: 'none',
  /** Transaction-mode pooler: no named statements, LISTEN and migrations on `directUrl` when given. */
  transaction: 'transaction',
} as const;
export type PoolerMode = (typeof PoolerMode)[keyof typeof PoolerMode];

export interface ConnectionOptions {
  /** What sits between this process and PostgreSQL. @default process.env.JOBLINE_POOLER ?? 'auto' */
  pooler?: PoolerMode;
  /** A direct, unpooled URL for LISTEN and migrations. @default process.env.JOBLINE_DIRECT_URL */
  directUrl?: string;
  /**
   * Longest statement. Server side as `statement_timeout` where the connection allows a startup
   * parameter (not through PgBouncer: set it on the role there); always client side, 5 s later,
   * as pg's `query_timeout`, which also ends a statement stuck on a half-open connection. @default 60000
   */
  statementTimeoutMs?: number;
  /** Longest wait for a new connection, TCP + startup (env JOBLINE_CONNECT_TIMEOUT_MS). @default 10000 */
  connectTimeoutMs?: number;
  /** TCP keepalive idle time before the first probe. @default 10000 */
  keepAliveInitialDelayMs?: number;
}

const Schema = z.strictObject({
  pooler: z.enum(['auto', 'none', 'transaction']).optional(),
  directUrl: z.string().optional(),
  statementTimeoutMs: z
    .number()
    .int()
    .min(0)
    .max(24 * 3600_000)
    .default(60_000),
  connectTimeoutMs: z.number().int().min(100).max(600_000).default(10_000),
  keepAliveInitialDelayMs: z.number().int().min(0).max(3600_000).default(10_000),
});

export interface ResolvedConnection {
  pooler: PoolerMode;
  directUrl: string | undefined;
  statementTimeoutMs: number;
  connectTimeoutMs: number;
  keepAliveInitialDelayMs: number;
}

const envNumber = (v: string | undefined) => (v === undefined || v === '' ? undefined : Number(v));

/** Options win over env: JOBLINE_POOLER, JOBLINE_DIRECT_URL, JOBLINE_STATEMENT_TIMEOUT_MS, JOBLINE_CONNECT_TIMEOUT_MS. */
export function resolveConnectionOptions(o: ConnectionOptions = {}, env = process.env): ResolvedConnection {
  const r = parseOrThrow(Schema, {
    statementTimeoutMs: envNumber(env.JOBLINE_STATEMENT_TIMEOUT_MS),
    connectTimeoutMs: envNumber(env.JOBLINE_CONNECT_TIMEOUT_MS),
    ...o,
    pooler: o.pooler ?? (env.JOBLINE_POOLER || undefined),
    directUrl: o.directUrl ?? (env.JOBLINE_DIRECT_URL || undefined),
  });
  return {
    pooler: r.pooler ?? 'auto',
    directUrl: r.directUrl || undefined,
    statementTimeoutMs: r.statementTimeoutMs,
    connectTimeoutMs: r.connectTimeoutMs,
    keepAliveInitialDelayMs: r.keepAliveInitialDelayMs,
  };
}

/** Per pool: whether statements may be named, and why not when they may not. */
export class StatementMode {
  named: boolean;
  reason: string | undefined;
  onChange: ((reason: string) => void) | undefined;

  constructor(pooler: PoolerMode) {
    this.named = pooler !== 'transaction';
    this.reason = pooler === 'transaction' ? 'pooler: transaction' : undefined;
  }

  unname(reason: string): void {
    if (!this.named) return;
    this.named = false;
    this.reason = reason;
    this.onChange?.(reason);
  }
}

/** 42P05 duplicate_prepared_statement, 26000 invalid_sql_statement_name. */
const POOLER_CODES = new Set(['42P05', '26000']);

type QueryConfigLike = { name?: unknown; text?: unknown; submit?: unknown };

/** A pg Client class that drops statement names while `mode.named` is false (see the module comment). */
export function poolerAwareClient(mode: StatementMode): typeof pg.Client {
  class PoolerAwareClient extends pg.Client {
    // pg's overloads do not survive an override; the shapes handled are the ones pg-pool and our code pass.
    override query(config: any, values?: any, callback?: any): any {
      const c = config as QueryConfigLike | string;
      if (!c || typeof c !== 'object' || typeof c.name !== 'string' || typeof c.submit === 'function') {
        return super.query(config, values, callback);
      }
      const { name: _name, ...unnamed } = c as Record<string, unknown> & { text: string };
      if (!mode.named) return super.query(unnamed as any, values, callback);
      if (typeof values === 'function') {
        callback = values;
        values = undefined;
      }
      const p = (super.query(config, values) as Promise<pg.QueryResult>).catch((err: { code?: string; message?: string }) => {
        if (!err || !POOLER_CODES.has(err.code ?? '')) throw err;
        mode.unname(`named statement failed with ${err.code} (${err.message}): a transaction-mode pooler`);
        if (this.getTransactionStatus() === 'I') return super.query(unnamed, values) as Promise<pg.QueryResult>;
        throw err;
      });
      if (typeof callback === 'function') {
        p.then(
          (r) => callback(null, r),
          (e) => callback(e),
        );
        return undefined;
      }
      return p;
    }
  }
  return PoolerAwareClient as unknown as typeof pg.Client;
}

/** pg client settings shared by the pool and the dedicated (LISTEN, migration) connections. */
export function clientConfig(c: ResolvedConnection, serverTimeouts: boolean): pg.ClientConfig {
  return {
    connectionTimeoutMillis: c.connectTimeoutMs,
    keepAlive: true,
    keepAliveInitialDelayMillis: c.keepAliveInitialDelayMs,
    ...(c.statementTimeoutMs > 0
      ? { query_timeout: c.statementTimeoutMs + 5000, ...(serverTimeouts ? { statement_timeout: c.statementTimeoutMs } : {}) }
      : {}),
  };
}

/**
 * Probe for signal 1: a connection with a startup parameter PgBouncer refuses. Returns
 * 'transaction' when refused that way, 'none' when accepted; other errors propagate.
 */
export async function detectPooler(url: string, c: ResolvedConnection, applicationName: string): Promise<PoolerMode> {
  const client = new pg.Client({
    connectionString: url,
    application_name: applicationName,
    ...clientConfig(c, false),
    statement_timeout: 60_000,
  });
  client.on('error', () => {});
  try {
    await client.connect();
    return 'none';
  } catch (err) {
    if (/unsupported startup parameter/i.test((err as Error).message)) return 'transaction';
    throw err;
  } finally {
    await client.end().catch(() => {});
  }
}
