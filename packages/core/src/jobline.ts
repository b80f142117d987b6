import type pg from 'pg';
import type { Logger } from 'pino';
import { z } from 'zod';
import { startEmbedded, type EmbeddedServer } from './db/embedded.js';
import { quoteSchema } from './db/identifiers.js';
import { RENUMBERED, migrate, readMigrations, type MigrateResult } from './db/migrate.js';
import { assertNotNewer } from './db/schema-version.js';
import { statementHistogram } from './db/query-log.js';
import type { Histogram } from './observability/metrics.js';
import { createPool, inTransaction, withTransaction, type Queryable } from './db/pool.js';
import { openTopology, type Topology, type TopologyOptions } from './topology.js';
import { ValidationError } from './db/errors.js';
import type { Job, JobExecution } from './db/rows.js';
import { cancelJob } from './queue/cancel.js';
import { insertJobs, prepareJobs, type EnqueueResult } from './queue/enqueue.js';
import { hasPolicy } from './queue/enqueue-policies.js';
import { countHeldGroups, getBalance, listLedger, setQuota, topUp, type Balance, type LedgerPage, type LedgerQuery, type QuotaSpec } from './queue/quota.js';
import { Debounced, DebouncedNotifier, cancelChannel, jobsChannel, notifyInTransaction } from './queue/notify.js';
import { updateQueue, type QueueConfig, type QueueSettings } from './queue/queue-config.js';
import { getJob, listExecutions, listJobs, type JobFilter, type JobPage } from './queue/read.js';
import { Inspector } from './queue/inspector.js';
import { retryJob, retryMatching, type BulkRetryResult, type RetryFilter } from './queue/retry-now.js';
import { defaultLogger } from './logger.js';
import { parseOrThrow, type JobSpec } from './schemas.js';
import { VERSION } from './version.js';
import {
  applyDefinitions,
  createDefinition,
  getDefinition,
  listDefinitions,
  parseDefinitionRef,
  type CreatedDefinition,
  type Definition,
  type DefinitionFilter,
  type DefinitionRef,
  type DefinitionSpec,
} from './definitions/index.js';
import { Worker, type Transition, type WorkerDeps } from './worker/worker.js';
import { DagEngine, DEFAULT_DAG_MAX_EDGES, DEFAULT_DAG_MAX_NODES, type DagRunDetail, type DagSpec, type SubmittedDag } from './dag/index.js';
import type { WorkerOptions } from './worker/options.js';
import {
  ActionApi,
  ConstraintApi,
  ScheduleApi,
  Scheduler,
  queryStats,
  queryViolations,
  listPasses,
  type OrchestratorPass,
  type PassFilter,
  type ScheduleHost,
  type SchedulerOptions,
  type SchedulerStatsRow,
  type Violation,
  type ViolationFilter,
} from './schedule/index.js';
import { resolveEventsOptions, type EventsOptions, type ResolvedEventsOptions } from './events/options.js';
import { Relay } from './events/relay.js';
import { startPublishSpan } from './observability/tracing.js';
import type { JobTypes, JobNameOf, TypedDagSpec, TypedJob, TypedJobSpec, TypedWorkerOptions } from './typed-jobs.js';

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

const ConnectSchema = z.strictObject({
  databaseUrl: z.string().min(1).optional(),
  schema: z.string().optional(),
  poolSize: z.number().int().min(1).max(1000).default(10),
  maxInputBytes: z.number().int().min(16).max(256 * 1024 * 1024).default(1024 * 1024),
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

/**
 * What `Jobline.connect<J>()` returns: the same Jobline with the job-shaped methods typed by J.
 * Everything else (queues, definitions, schedules, close, …) is Jobline's own.
 */
export type TypedJobline<J extends JobTypes> = Omit<Jobline, 'enqueue' | 'enqueueMany' | 'getJob' | 'submitDag' | 'worker'> & {
  enqueue<N extends JobNameOf<J>>(job: TypedJobSpec<J, N>, opts?: TxOption): Promise<TypedJob<J, N>>;
  enqueueMany(jobs: TypedJobSpec<J>[], opts?: TxOption): Promise<TypedJob<J>[]>;
  /** With a name (`getJob<'resize'>(id)`), the row is typed as that job; without, narrow on `job.name`. */
  getJob<N extends JobNameOf<J> = JobNameOf<J>>(id: number): Promise<TypedJob<J, N>>;
  submitDag(spec: TypedDagSpec<J>, opts?: TxOption): Promise<SubmittedDag>;
  worker(options: TypedWorkerOptions<J>): Worker;
};

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

/** The library's entry point (DESIGN §6). One per process; it owns one pool. */
export class Jobline {
  private notifier: Debounced;
  /** Pooler mode, direct URL, named statements, wake-up transport (topology.ts). */
  topology: Topology | undefined;
  private readonly workers = new Set<Worker>();
  /** `application_name` of this instance's connections. */
  applicationName = 'jobline';
  /** Runs in completing transactions for DAG jobs; installed by the DAG module. */
  afterTransitions: ((tx: Queryable, rows: Transition[]) => Promise<void>) | undefined;
  private readonly dags: DagEngine;
  /** Cron schedules: add, list, update, pause, resume, remove, runs, trigger (schedule/README.md). */
  readonly schedules: ScheduleApi;
  /** Run constraints that schedules name (max concurrent runs, catch-up, run times, hooks, …). */
  readonly constraints: ConstraintApi;
  /** Actions schedules bind to triggers (retry, kick_off_job, webhook, kill_*, skip_next_instance). */
  readonly actions: ActionApi;
  private readonly scheduleHost: ScheduleHost;
  /** Bounded reads for dashboards: queues with depth, throughput, workers, outbox, job search, DAG runs. */
  readonly inspect: Inspector;
  private readonly relays = new Set<Relay>();
  /** NATS for status events; undefined = no relay, `tailEvents` reads the outbox. */
  natsUrl: string | undefined;
  /** Resolved event settings (stream, subject prefix, relay tuning). */
  events: ResolvedEventsOptions;
  /** Durations of this instance's statements by name; register it in a MetricsRegistry to expose it. */
  statementDurations: Histogram<'statement'> = statementHistogram();

  private constructor(
    readonly pool: pg.Pool,
    readonly connectionString: string,
    readonly schema: string,
    readonly logger: Logger,
    readonly maxInputBytes: number,
    notifyDebounceMs: number,
    private readonly embedded: EmbeddedServer | undefined,
    dagLimits: { maxNodes: number; maxEdges: number } = { maxNodes: DEFAULT_DAG_MAX_NODES, maxEdges: DEFAULT_DAG_MAX_EDGES },
  ) {
    this.notifier = new DebouncedNotifier(pool, jobsChannel(schema), notifyDebounceMs);
    this.events = resolveEventsOptions(undefined, schema);
    this.dags = new DagEngine({
      pool,
      s: quoteSchema(schema),
      jobsChannel: jobsChannel(schema),
      cancelChannel: cancelChannel(schema),
      limits: { ...dagLimits, maxInputBytes },
    });
    const jl = this;
    this.scheduleHost = {
      pool,
      schema,
      s: quoteSchema(schema),
      connectionString,
      get applicationName() {
        return jl.applicationName;
      },
      logger,
      maxInputBytes,
      cancelChannel: cancelChannel(schema),
      insertJobs: (jobs, tx) => this.insertJobs(jobs, { tx }),
      submitDag: (spec, tx) => this.dags.submit(spec, tx),
      cancelDag: (id) => this.dags.cancel(id),
    };
    this.schedules = new ScheduleApi(this.scheduleHost);
    this.constraints = new ConstraintApi(this.scheduleHost);
    this.actions = new ActionApi(this.scheduleHost);
    this.inspect = new Inspector(pool, quoteSchema(schema));
    // Installed before any worker exists: WorkerDeps captures it when jl.worker() is called.
    this.afterTransitions = (tx, rows) => this.dags.advance(tx, rows);
  }

  /** Quoted schema, for SQL. */
  get s(): string {
    return quoteSchema(this.schema);
  }

  /** Connects (and migrates, unless `migrate: false`). `connect<Jobs>()` types the job-shaped methods by a job map (typed-jobs.ts). */
  static connect(options?: ConnectOptions): Promise<Jobline>;
  static connect<J extends JobTypes>(options?: ConnectOptions): Promise<TypedJobline<J>>;
  static async connect(options: ConnectOptions = {}): Promise<unknown> {
    const o = parseOrThrow(ConnectSchema, options);
    const schema = o.schema ?? process.env.JOBLINE_SCHEMA ?? 'jobline';
    quoteSchema(schema);
    const logger = o.logger ?? defaultLogger();
    let url = o.databaseUrl ?? process.env.DATABASE_URL;
    let embedded: EmbeddedServer | undefined;
    if (!url) {
      logger.info('DATABASE_URL is not set: starting an embedded PostgreSQL');
      embedded = await startEmbedded();
      url = embedded.url;
    }
    const topology = await openTopology(url, !!embedded, o.applicationName, logger, {
      pooler: o.pooler as TopologyOptions['pooler'],
      directUrl: o.directUrl as string | undefined,
      statementTimeoutMs: o.statementTimeoutMs as number | undefined,
      connectTimeoutMs: o.connectTimeoutMs as number | undefined,
      wakeups: o.wakeups as TopologyOptions['wakeups'],
      natsUrl: (o.natsUrl ?? process.env.NATS_URL) || undefined,
      schema,
    });
    const slowQueryMs = o.slowQueryMs ?? parseOrThrow(z.coerce.number().min(0).default(0), process.env.JOBLINE_SLOW_QUERY_MS || undefined, 'JOBLINE_SLOW_QUERY_MS');
    const statementDurations = statementHistogram();
    const queryLog = { logger, slowQueryMs, schema, histogram: statementDurations };
    const pool = createPool({ connectionString: url, max: o.poolSize, applicationName: o.applicationName, extra: topology.poolConfig, queryLog });
    const jl = new Jobline(pool, url, schema, logger, o.maxInputBytes, o.notifyDebounceMs, embedded, {
      maxNodes: o.maxDagNodes,
      maxEdges: o.maxDagEdges,
    });
    jl.applicationName = o.applicationName;
    jl.statementDurations = statementDurations;
    jl.natsUrl = (o.natsUrl ?? process.env.NATS_URL) || undefined;
    jl.events = resolveEventsOptions(o.events, schema);
    jl.topology = topology;
    jl.scheduleHost.listenUrl = topology.listenUrl;
    jl.scheduleHost.listenConfig = topology.listenConfig;
    if (topology.publisher) {
      const pub = topology.publisher;
      const fallback = jl.notifier;
      jl.notifier = new Debounced(o.notifyDebounceMs, (q) => pub.publish(q) || fallback.notify([q]));
    }
    try {
      // Either way a schema with migrations this code does not know stops here, unless they are
      // all additive (db/schema-version.ts, docs/migrations.md).
      const newer = o.migrate ? (await jl.migrate()).newer : (await assertNotNewer(pool, schema, await readMigrations(), RENUMBERED)).map((m) => m.name);
      if (newer.length) logger.warn({ schema, newer }, `schema "${schema}" has additive migrations this Jobline does not ship (${newer.join(', ')}); running with them`);
    } catch (err) {
      await jl.close();
      throw err;
    }
    return jl;
  }

  /** This instance typed by a job map (the same object; see typed-jobs.ts). */
  typed<J extends JobTypes>(): TypedJobline<J> {
    return this as unknown as TypedJobline<J>;
  }

  migrate(): Promise<MigrateResult> {
    return this.topology ? this.topology.migrate(this.pool, this.schema) : migrate(this.pool, this.schema);
  }

  /** Enqueues one job. With an idempotency key that already exists in the queue, returns that job. */
  async enqueue<I = unknown>(job: EnqueueSpec & { input?: I }, opts: TxOption = {}): Promise<Job<I>> {
    const [r] = await this.insertJobs([job], opts, true);
    return r.job as Job<I>;
  }

  /** Enqueues many jobs with one statement per 10,000; results in input order. */
  async enqueueMany(jobs: EnqueueSpec[], opts: TxOption = {}): Promise<Job[]> {
    return (await this.insertJobs(jobs, opts)).map((r) => r.job);
  }

  /** Like enqueueMany, also telling which jobs were created and which already existed (idempotency). */
  async insertJobs(jobs: EnqueueSpec[], opts: TxOption = {}, single = false): Promise<EnqueueResult[]> {
    if (!Array.isArray(jobs)) throw parseOrThrow(z.array(z.unknown()), jobs, 'jobs');
    // Jobs by definition take its defaults, are pinned to its version and have their input checked.
    const specs = jobs.some((j) => typeof (j as { definition?: unknown })?.definition === 'string')
      ? await applyDefinitions(opts.tx ?? this.pool, this.s, jobs as JobSpec[], single)
      : (jobs as JobSpec[]);
    const prepared = prepareJobs(specs, this.maxInputBytes, single);
    if (!prepared.length) return [];
    const trace = startPublishSpan<EnqueueResult[]>(prepared, single, opts.callerTraceparent);
    if (!trace) return this.writeJobs(prepared, opts);
    return trace.around(
      () => this.writeJobs(prepared, opts),
      (span, results) => {
        if (!single) return;
        span.setAttribute('messaging.message.id', String(results[0].job.id));
        span.setAttribute('jobline.job.created', results[0].created);
      },
    );
  }

  private async writeJobs(prepared: ReturnType<typeof prepareJobs>, opts: TxOption): Promise<EnqueueResult[]> {
    const queues = new Set(prepared.map((p) => p.spec.queue));
    if (opts.tx) {
      const results = await insertJobs(opts.tx, this.s, prepared);
      await notifyInTransaction(opts.tx, jobsChannel(this.schema), queues);
      return results;
    }
    // Over 10,000 jobs take several statements, and so do enqueue policies: one transaction keeps the call all-or-nothing.
    const results =
      prepared.length > 10_000 || prepared.some(hasPolicy)
        ? await withTransaction(this.pool, (tx) => insertJobs(tx, this.s, prepared))
        : await insertJobs(this.pool, this.s, prepared);
    this.notifier.notify(queues);
    return results;
  }

  /**
   * Registers a job definition (DESIGN §2). Without `version`, creates the next version, or
   * returns the latest unchanged (`created: false`) when it is identical.
   */
  createDefinition(spec: DefinitionSpec): Promise<CreatedDefinition> {
    return createDefinition(this.pool, this.s, spec);
  }

  /** A definition by `name` (latest version), `name@version` or `{ name, version }`; NotFoundError when missing. */
  async getDefinition(ref: string | DefinitionRef): Promise<Definition> {
    const parsed = typeof ref === 'string' ? parseDefinitionRef(ref) : ref;
    if (!parsed) throw ValidationError.field('definition', `"${String(ref)}" is not a definition name or name@version`);
    return getDefinition(this.pool, this.s, parsed);
  }

  /** The latest version of every definition, or every version of one (`{ name }`). */
  listDefinitions(filter: DefinitionFilter = {}): Promise<Definition[]> {
    return listDefinitions(this.pool, this.s, filter);
  }

  /** Creates or changes a queue's settings (pause, concurrency limit, defaults, events); see QueueConfig. */
  updateQueue(name: string, patch: QueueConfig): Promise<QueueSettings> {
    return updateQueue(this.pool, this.s, name, patch);
  }

  // ---- quotas (queue/quota.ts): a group's wallet, top-ups and the usage ledger ----

  /** Creates or replaces a group's (tenant's) wallet: its unit and balance. Balance 0 holds its jobs. */
  setQuota(group: string, spec: QuotaSpec, opts: TxOption = {}): Promise<Balance> {
    return inTransaction(this.pool, opts.tx, (tx) => setQuota(tx, this.s, group, spec));
  }

  /** Adds units to a group's wallet (NotFoundError without one); a positive balance releases held jobs. */
  topUp(group: string, amount: number, opts: TxOption & { note?: string } = {}): Promise<Balance> {
    return inTransaction(this.pool, opts.tx, (tx) => topUp(tx, this.s, group, amount, opts.note));
  }

  /** A group's wallet: unit, balance and whether its jobs are held. NotFoundError without one. */
  getBalance(group: string): Promise<Balance> {
    return getBalance(this.pool, this.s, group);
  }

  /** A group's ledger, newest first: one charge per finished attempt, and every top-up and set. */
  listLedger(group: string, query: LedgerQuery = {}): Promise<LedgerPage> {
    return listLedger(this.pool, this.s, group, query);
  }

  /** Groups held now, by reason (`{ quota: 3 }`), for a gauge. */
  heldGroupCounts(): Promise<Record<string, number>> {
    return countHeldGroups(this.pool, this.s);
  }

  getJob(id: number): Promise<Job> {
    return getJob(this.pool, this.s, id);
  }

  listJobs(filter: JobFilter = {}): Promise<JobPage> {
    return listJobs(this.pool, this.s, filter);
  }

  executions(id: number): Promise<JobExecution[]> {
    return listExecutions(this.pool, this.s, id);
  }

  /** Cancels a job that has not finished; a running attempt's signal is aborted. */
  async cancel(id: number): Promise<Job> {
    const done = await withTransaction(this.pool, async (tx) => {
      const c = await cancelJob(tx, this.s, id, cancelChannel(this.schema));
      if (c.job.dagRunId !== undefined && this.afterTransitions) {
        await this.afterTransitions(tx, [{ id: c.job.id, state: 'cancelled', dagRunId: c.job.dagRunId, dagNodeKey: c.job.dagNodeKey }]);
      }
      return c;
    });
    return done.job;
  }

  /**
   * Retries a failed or cancelled job now (or runs a `retryable` one without waiting for its
   * backoff): it becomes available with one more attempt allowed; history is kept, a `retrying`
   * event is written. ConflictError for other states and for jobs of settled DAG runs.
   */
  retry(id: number): Promise<Job> {
    return withTransaction(this.pool, (tx) => retryJob(tx, this.s, id, jobsChannel(this.schema)));
  }

  /** Retries failed (or cancelled) jobs matching a filter, at most `limit` per call; see RetryFilter. */
  retryMany(filter: RetryFilter): Promise<BulkRetryResult> {
    return withTransaction(this.pool, (tx) => retryMatching(tx, this.s, filter, jobsChannel(this.schema)));
  }

  /**
   * Submits a DAG run (DESIGN §4): validated as a whole first (keys, parents, cycles, `$ref`s,
   * limits), then written in one transaction — the caller's `tx` when given. With an
   * idempotency key that exists, returns that run (`created: false`).
   */
  submitDag(spec: DagSpec, opts: TxOption = {}): Promise<SubmittedDag> {
    return this.dags.submit(spec, opts.tx, opts.callerTraceparent);
  }

  /** The run, every node's state, attempts and timings, and the edges. */
  getDag(id: number): Promise<DagRunDetail> {
    return this.dags.get(id);
  }

  /** Cancels every unfinished node of a running run; running nodes' signals are aborted. */
  cancelDag(id: number): Promise<DagRunDetail> {
    return this.dags.cancel(id);
  }

  /** Constraint violations of schedules, newest first. */
  violations(filter: ViolationFilter = {}): Promise<Violation[]> {
    return queryViolations(this.scheduleHost, filter);
  }

  /** The scheduler leaders' statistics rows (one per period), newest first. */
  schedulerStats(limit = 50): Promise<SchedulerStatsRow[]> {
    return queryStats(this.scheduleHost, limit);
  }

  /** One row per scheduler pass (runtime, constraints checked, actions taken), newest first. */
  orchestratorStats(filter: PassFilter = {}): Promise<OrchestratorPass[]> {
    return listPasses(this.pool, this.s, filter);
  }

  /**
   * A scheduler outside any worker (workers run one unless `scheduler: false`): `start()` to
   * compete for the lease, or `tick()` for single passes (tools, tests with an injected clock).
   */
  scheduler(options: SchedulerOptions = {}): Scheduler {
    return new Scheduler(this.scheduleHost, options);
  }

  /** Creates a worker; call `start()` on it. */
  worker(options: WorkerOptions): Worker {
    const w = new Worker(this.workerDeps(), options);
    this.workers.add(w);
    return w;
  }

  private workerDeps(): WorkerDeps {
    return {
      pool: this.pool,
      connectionString: this.connectionString,
      applicationName: this.applicationName,
      schema: this.schema,
      s: this.s,
      jobsChannel: jobsChannel(this.schema),
      cancelChannel: cancelChannel(this.schema),
      logger: this.logger,
      maxOutputBytes: this.maxInputBytes,
      version: VERSION,
      afterTransitions: this.afterTransitions && ((tx, rows) => this.afterTransitions!(tx, rows)),
      schedules: this.scheduleHost,
      natsUrl: this.natsUrl,
      events: this.events,
      listenUrl: this.topology?.listenUrl,
      listenConfig: this.topology?.listenConfig,
      natsWakeups: this.topology?.wakeups === 'nats',
    };
  }

  /**
   * An outbox relay for a process that runs no worker (workers run one themselves); call
   * `start()`. Only the holder of the `relay` lease publishes. Needs `natsUrl`.
   */
  relay(holder = `relay-${process.pid}-${Math.random().toString(36).slice(2, 8)}`): Relay {
    if (!this.natsUrl) throw ValidationError.field('natsUrl', 'the relay needs NATS: set NATS_URL or the natsUrl option');
    const r = new Relay({ pool: this.pool, s: this.s, natsUrl: this.natsUrl, events: this.events, logger: this.logger, holder });
    this.relays.add(r);
    return r;
  }

  /** Stops this instance's workers, closes the pool and stops an embedded server it started. */
  async close(): Promise<void> {
    await Promise.all([...this.workers].map((w) => w.stop()));
    await Promise.all([...this.relays].map((r) => r.stop()));
    this.notifier.close();
    await this.topology?.close();
    await this.pool.end().catch(() => {});
    await this.embedded?.stop();
  }
}
