/**
 * Jobline.connect's options, resolved once (DESIGN §9): ConnectOptions is what callers write,
 * each field documented with its `@default`; resolveConnectOptions validates them (zod, every
 * bad field named), reads the environment once and fills the defaults into a
 * ResolvedConnectOptions, which the instance keeps privately: it holds the connection string
 * (and so the password), which must not be reachable from the public `Jobline`.
 */
import type { Logger } from 'pino';
import { z } from 'zod';
import { DEFAULT_DAG_MAX_EDGES, DEFAULT_DAG_MAX_NODES } from './dag/index.js';
import { quoteSchema } from './db/identifiers.js';
import { resolveEventsOptions, type EventsOptions, type ResolvedEventsOptions } from './events/options.js';
import { defaultLogger } from './logger.js';
import { parseOrThrow } from './schemas.js';
import type { Queryable } from './db/pool.js';
import type { JobSpec } from './schemas.js';
import type { TopologyOptions } from './topology.js';

export interface ConnectOptions {
  /** PostgreSQL connection string. @default process.env.DATABASE_URL; when unset, an embedded PostgreSQL from `@jobline/embedded` (an optional peer: install it for this) is started and stopped by close(). */
  databaseUrl?: string;
  /** Schema holding Jobline's tables. @default process.env.JOBLINE_SCHEMA ?? 'jobline' */
  schema?: string;
  /** Connections in this process's pool. @default 10 */
  poolSize?: number;
  /** Largest job input or output, as JSON bytes. @default 1048576 (1 MiB) */
  maxInputBytes?: number;
  /** NOTIFY debounce window per queue for auto-committed enqueues. @default 2 */
  notifyDebounceMs?: number;
  /** Most nodes in one DAG run (submitDag rejects bigger specs). @default 10000 */
  maxDagNodes?: number;
  /** Most dependency edges in one DAG run. @default 100000 */
  maxDagEdges?: number;
  /** `application_name` of this process's connections (shows in pg_stat_activity). @default 'jobline' */
  applicationName?: string;
  /** Apply pending migrations while connecting (safe with any number of processes). @default true */
  migrate?: boolean;
  /** NATS server(s) for status events; unset or '' = no relay (events wait in the outbox). @default process.env.NATS_URL */
  natsUrl?: string;
  /** Event stream, subjects and relay settings (DESIGN §5, events/README.md). */
  events?: EventsOptions;
  logger?: Logger;
  /** Pooler mode, direct URL, timeouts, wake-up transport: topology.ts (README "Production topologies"). */
  pooler?: TopologyOptions['pooler'];
  /** A direct, unpooled URL for LISTEN and migrations when `databaseUrl` is a transaction pooler. @default process.env.JOBLINE_DIRECT_URL */
  directUrl?: string;
  /** Longest statement (server `statement_timeout` where allowed; client `query_timeout` 5 s later). 0 = none. @default 60000 */
  statementTimeoutMs?: number;
  /** Longest wait for a new connection. @default 10000 */
  connectTimeoutMs?: number;
  /** How producers wake workers: 'nats' (core NATS, needs natsUrl), 'notify' (NOTIFY), 'auto' = nats when natsUrl is set. @default 'auto' */
  wakeups?: TopologyOptions['wakeups'];
  /**
   * Statements slower than this many ms are logged at warn at any log level (db/query-log.ts);
   * 0 = off. At LOG_LEVEL=debug every statement is logged. @default process.env.JOBLINE_SLOW_QUERY_MS ?? 0
   */
  slowQueryMs?: number;
}

export const ConnectSchema = z.strictObject({
  databaseUrl: z.string().min(1).optional(),
  schema: z.string().optional(),
  poolSize: z.number().int().min(1).max(1000).default(10),
  maxInputBytes: z
    .number()
    .int()
    .min(16)
    .max(256 * 1024 * 1024)
    .default(1024 * 1024),
  notifyDebounceMs: z.number().min(0).max(10_000).default(2),
  maxDagNodes: z.number().int().min(1).max(1_000_000).default(DEFAULT_DAG_MAX_NODES),
  maxDagEdges: z.number().int().min(0).max(10_000_000).default(DEFAULT_DAG_MAX_EDGES),
  migrate: z.boolean().default(true),
  applicationName: z.string().min(1).max(63).default('jobline'),
  natsUrl: z.string().optional(),
  events: z.custom<EventsOptions>((v) => typeof v === 'object' && v !== null, 'events must be an object').optional(),
  logger: z.custom<Logger>((v) => typeof v === 'object' && v !== null).optional(),
  // Validated by resolveConnectionOptions / openTopology (db/connection-options.ts, topology.ts).
  pooler: z.unknown().optional(),
  directUrl: z.unknown().optional(),
  statementTimeoutMs: z.unknown().optional(),
  connectTimeoutMs: z.unknown().optional(),
  wakeups: z.unknown().optional(),
  slowQueryMs: z.number().min(0).optional(),
});

/** A job enqueued by definition: `name` defaults to the definition's name. */
export type DefinitionJobSpec = Omit<JobSpec, 'name' | 'definition'> & { name?: string; definition: string };
/** What enqueue accepts: a plain job, or a job by definition. */
export type EnqueueSpec = JobSpec | DefinitionJobSpec;

export interface TxOption {
  /** Run inside this transaction (a pg client with BEGIN issued): the job exists only if it commits. */
  tx?: Queryable;
  /**
   * The caller's W3C `traceparent` (the producer API passes the request's header): parent of
   * the producer span when no span is active, or, when no tracer records, the creation context
   * stored for jobs that bring none. Invalid values are ignored. See observability/README.md.
   */
  callerTraceparent?: string;
}

/** ConnectOptions after validation: defaults filled, environment read, events resolved. */
export interface ResolvedConnectOptions {
  /** Unset = start an embedded PostgreSQL (connect fills it with the embedded URL). */
  databaseUrl: string | undefined;
  schema: string;
  poolSize: number;
  maxInputBytes: number;
  notifyDebounceMs: number;
  maxDagNodes: number;
  maxDagEdges: number;
  applicationName: string;
  migrate: boolean;
  /** '' and unset both mean no NATS. */
  natsUrl: string | undefined;
  events: ResolvedEventsOptions;
  logger: Logger;
  slowQueryMs: number;
  /** Checked by openTopology (topology.ts), which owns these settings. */
  topology: Omit<TopologyOptions, 'natsUrl' | 'schema'>;
}

/** Validates `options` and fills every default, reading `env` once (DATABASE_URL, JOBLINE_SCHEMA, NATS_URL, JOBLINE_SLOW_QUERY_MS). */
export function resolveConnectOptions(options: ConnectOptions = {}, env: NodeJS.ProcessEnv = process.env): ResolvedConnectOptions {
  const o = parseOrThrow(ConnectSchema, options);
  const schema = o.schema ?? env.JOBLINE_SCHEMA ?? 'jobline';
  quoteSchema(schema);
  return {
    databaseUrl: o.databaseUrl ?? (env.DATABASE_URL || undefined),
    schema,
    poolSize: o.poolSize,
    maxInputBytes: o.maxInputBytes,
    notifyDebounceMs: o.notifyDebounceMs,
    maxDagNodes: o.maxDagNodes,
    maxDagEdges: o.maxDagEdges,
    applicationName: o.applicationName,
    migrate: o.migrate,
    natsUrl: (o.natsUrl ?? env.NATS_URL) || undefined,
    events: resolveEventsOptions(o.events, schema),
    logger: o.logger ?? defaultLogger(),
    slowQueryMs:
      o.slowQueryMs ?? parseOrThrow(z.coerce.number().min(0).default(0), env.JOBLINE_SLOW_QUERY_MS || undefined, 'JOBLINE_SLOW_QUERY_MS'),
    topology: {
      pooler: o.pooler as TopologyOptions['pooler'],
      directUrl: o.directUrl as string | undefined,
      statementTimeoutMs: o.statementTimeoutMs as number | undefined,
      connectTimeoutMs: o.connectTimeoutMs as number | undefined,
      wakeups: o.wakeups as TopologyOptions['wakeups'],
    },
  };
}
