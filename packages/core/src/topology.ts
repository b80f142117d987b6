/**
 * How this process reaches PostgreSQL and wakes workers, decided once at connect
 * (README "Production topologies"):
 *
 * | setting                    | direct / session pooler        | transaction pooler + directUrl | transaction pooler, no directUrl        |
 * |----------------------------|--------------------------------|--------------------------------|-----------------------------------------|
 * | hot-path statements        | named (prepared once per conn) | unnamed                        | unnamed                                 |
 * | migrations                 | `pg_advisory_xact_lock` per file, on the pool | … on directUrl  | … on the pool (through the pooler)      |
 * | LISTEN (wake-ups, cancel,  | on databaseUrl                 | on directUrl                   | none: NATS wake-ups if NATS_URL, else   |
 * |  scheduler index changes)  |                                |                                | the poll (pollIntervalMs)               |
 * | server statement_timeout   | startup parameter              | startup parameter on directUrl | set it on the role (`ALTER ROLE … SET`) |
 *
 * Client-side `query_timeout` (statementTimeoutMs + 5 s), connect timeout and TCP keepalive apply
 * everywhere. Wake-ups go over core NATS when NATS_URL is set (events/wakeups.ts), else NOTIFY.
 */
import type pg from 'pg';
import type { Logger } from 'pino';
import { z } from 'zod';
import {
  StatementMode,
  clientConfig,
  detectPooler,
  poolerAwareClient,
  resolveConnectionOptions,
  type ConnectionOptions,
  type PoolerMode,
  type ResolvedConnection,
} from './db/connection-options.js';
import { ValidationError } from './db/errors.js';
import { migrate, type MigrateResult } from './db/migrate.js';
import { createPool } from './db/pool.js';
import { WakeupPublisher } from './events/wakeups.js';
import { parseOrThrow } from './schemas.js';

export interface TopologyOptions extends ConnectionOptions {
  /** @default 'auto' (nats when natsUrl is set) */
  wakeups?: 'auto' | 'nats' | 'notify';
  natsUrl?: string;
  schema: string;
}

export interface Topology {
  /** The mode in force: detected when `pooler` was 'auto'. */
  pooler: PoolerMode;
  /** Named statements on, or off with the reason (may turn off later: detection signal 2). */
  statements: StatementMode;
  directUrl: string | undefined;
  /** URL for LISTEN; null = none possible (transaction pooler without directUrl). */
  listenUrl: string | null;
  listenConfig: pg.ClientConfig;
  poolConfig: Partial<pg.PoolConfig>;
  wakeups: 'nats' | 'notify';
  publisher: WakeupPublisher | undefined;
  connection: ResolvedConnection;
  migrate(pool: pg.Pool, schema: string): Promise<MigrateResult>;
  close(): Promise<void>;
}

const Wakeups = z.enum(['auto', 'nats', 'notify']).default('auto');

export async function openTopology(
  url: string,
  embedded: boolean,
  applicationName: string,
  log: Logger,
  o: TopologyOptions,
): Promise<Topology> {
  const { wakeups: w, natsUrl, schema, ...connOpts } = o;
  for (const [field, u] of [
    ['databaseUrl', url],
    ['directUrl', connOpts.directUrl],
  ] as const) {
    if (u && (/^postgres(ql)?:\/\/[^/?#]*,/i.test(u) || /(^|\s)host=\S*,/.test(u))) {
      throw ValidationError.field(
        field,
        'lists several hosts: node-postgres (pg 8) connects to one host only and has no target_session_attrs. ' +
          'Give one endpoint that follows the primary (a DNS name or virtual IP your failover moves, HAProxy with a primary check, ' +
          'a managed endpoint, or PgBouncer pointed at it); Jobline reconnects by itself when it moves (README "Failover").',
      );
    }
  }
  const conn = resolveConnectionOptions(Object.fromEntries(Object.entries(connOpts).filter(([, v]) => v !== undefined)));
  const wakeupsOpt = parseOrThrow(Wakeups, w ?? (process.env.JOBLINE_WAKEUPS || undefined), 'wakeups');
  let pooler = conn.pooler;
  let probed = false;
  if (pooler === 'auto' && embedded) pooler = 'none';
  if (pooler === 'auto') {
    try {
      pooler = await detectPooler(url, conn, applicationName);
      probed = true;
    } catch {
      // Unreachable right now: stay 'auto' (no startup parameters; detection signal 2 still works).
    }
  }
  if (pooler === 'transaction')
    log.info(
      { directUrl: !!conn.directUrl },
      'transaction-mode pooler: unnamed statements; LISTEN and migrations on the direct URL when given',
    );
  const statements = new StatementMode(pooler);
  statements.onChange = (reason) =>
    log.warn(
      { reason },
      'named statements turned off: DATABASE_URL is a transaction-mode pooler; set JOBLINE_POOLER=transaction and JOBLINE_DIRECT_URL for LISTEN',
    );
  const serverTimeouts = pooler === 'none' && (probed || embedded || conn.pooler === 'none');
  const poolConfig: Partial<pg.PoolConfig> = { ...clientConfig(conn, serverTimeouts), Client: poolerAwareClient(statements) };
  const listenConfig = clientConfig({ ...conn, statementTimeoutMs: 0 }, false);
  const listenUrl = conn.directUrl ?? (pooler === 'transaction' ? null : url);
  const wakeups = wakeupsOpt === 'notify' ? 'notify' : natsUrl ? 'nats' : 'notify';
  if (wakeupsOpt === 'nats' && !natsUrl)
    throw ValidationError.field('wakeups', '"nats" needs NATS: set NATS_URL or the natsUrl option, or use wakeups: "notify"');
  const publisher = wakeups === 'nats' ? new WakeupPublisher(natsUrl!, schema, `${applicationName}-wakeups`, log) : undefined;
  return {
    pooler,
    statements,
    directUrl: conn.directUrl,
    listenUrl,
    listenConfig,
    poolConfig,
    wakeups,
    publisher,
    connection: conn,
    async migrate(_pool, schemaName) {
      // A connection of its own, on the direct URL when there is one, without the statement
      // timeouts: a big index build may take longer than any default (the lock is
      // transaction-scoped, so this works through a transaction pooler too).
      const own = createPool({
        connectionString: conn.directUrl ?? url,
        max: 1,
        applicationName: `${applicationName}-migrate`,
        extra: { ...clientConfig({ ...conn, statementTimeoutMs: 0 }, false), Client: poolerAwareClient(statements) },
      });
      try {
        return await migrate(own, schemaName);
      } finally {
        await own.end().catch(() => {});
      }
    },
    async close() {
      await publisher?.close();
    },
  };
}
