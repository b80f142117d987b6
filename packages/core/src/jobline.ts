import type pg from 'pg';
import type { Logger } from 'pino';
import type { EmbeddedServer } from './db/embedded.js';
import { quoteSchema } from './db/identifiers.js';
import { RENUMBERED, migrate, readMigrations, type MigrateResult } from './db/migrate.js';
import { assertNotNewer } from './db/schema-version.js';
import { statementHistogram } from './db/query-log.js';
import type { Histogram } from './observability/metrics.js';
import { inTransaction, withTransaction } from './db/pool.js';
import type { Topology } from './topology.js';
import { ValidationError } from './db/errors.js';
import type { Job, JobExecution } from './model/job.js';
import { JobState } from './model/states.js';
import { cancelJob } from './queue/cancel.js';
import type { EnqueueResult } from './queue/enqueue.js';
import { writeJobs } from './write-jobs.js';
import { openConnection } from './connect.js';
import { DebouncedNotifier, cancelChannel, jobsChannel, type Debounced } from './queue/notify.js';
import { nodeDeps, scheduleHost, viaPublisher } from './jobline-wiring.js';
import { getQueueSettings, updateQueue, type QueueConfig, type QueueSettings } from './queue/queue-config.js';
import {
  countHeldGroups,
  getBalance,
  listLedger,
  setQuota,
  topUp,
  type Balance,
  type LedgerPage,
  type LedgerQuery,
  type QuotaSpec,
} from './queue/quota.js';
import { getJob, listExecutions, listJobs, type JobFilter, type JobPage } from './queue/read.js';
import { Inspector } from './inspector.js';
import { getGroup, listGroups, updateGroup, waitingReason, type GroupCounts, type GroupPatch, type GroupSettings } from './queue/groups.js';
import { retryJob, retryMatching, type BulkRetryResult, type RetryFilter } from './queue/retry-now.js';
import {
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
import type { TransitionHook } from './queue/transitions.js';
import { JoblineNode } from './node/node.js';
import { RelayService } from './node/relay-service.js';
import { SchedulerService } from './node/scheduler-service.js';
import { DagEngine, type DagRunDetail, type DagSpec, type SubmittedDag } from './dag/index.js';
import type { WorkerOptions } from './worker/options.js';
import {
  ActionApi,
  ConstraintApi,
  ScheduleApi,
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
import type { ResolvedEventsOptions } from './events/options.js';
import type { ResolvedConnectOptions } from './connect-options.js';
import { listQueues, type QueueInfo } from './queue/list-queues.js';
import { healthChecks, type HealthChecks } from './db/health.js';
import { tailEvents, type TailOptions } from './events/tail.js';
import type { JoblineEvent } from '@jobline/contracts';
import type { Queryable } from './db/pool.js';
import { VERSION } from './version.js';
import type { JobTypes, JobNameOf, TypedDagSpec, TypedJob, TypedJobSpec, TypedWorkerOptions } from './typed-jobs.js';
import type { ConnectOptions, EnqueueSpec, TxOption } from './connect-options.js';

export type { ConnectOptions, DefinitionJobSpec, EnqueueSpec, TxOption } from './connect-options.js';

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
  worker(options: TypedWorkerOptions<J>): JoblineNode;
};

/** The library's entry point (DESIGN §6). One per process; it owns one pool. */
export class Jobline {
  private notifier: Debounced;
  /** Pooler mode, direct URL, named statements, wake-up transport (topology.ts). */
  private topology: Topology | undefined;
  private readonly workers = new Set<JoblineNode>();
  /** `application_name` of this instance's connections. */
  readonly applicationName: string;
  /** Schema holding Jobline's tables. */
  readonly schema: string;
  readonly logger: Logger;
  /** Largest job input or output, as JSON bytes. */
  readonly maxInputBytes: number;
  /** DAG advancement, injected into whatever finishes jobs (completer, rescuer, cancel) at construction. */
  private readonly onTransitions: TransitionHook;
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
  private readonly relays = new Set<RelayService>();
  /** NATS for status events (it may hold credentials: private); undefined = no relay, tails read the outbox. */
  private readonly natsUrl: string | undefined;
  /** Resolved event settings (stream, subject prefix, relay tuning). */
  readonly events: ResolvedEventsOptions;
  /** Durations of this instance's statements by name; register it in a MetricsRegistry to expose it. */
  readonly statementDurations: Histogram<'statement'>;

  /**
   * `pool` and `connectionString` (which holds the password) are private, like every resolved
   * option: code inside the repository reaches them through `@jobline/core/internal`.
   */
  private constructor(
    private readonly pool: pg.Pool,
    private readonly connectionString: string,
    private readonly options: ResolvedConnectOptions,
    private readonly embedded: EmbeddedServer | undefined,
    statementDurations: Histogram<'statement'> = statementHistogram(),
  ) {
    const { schema, logger, maxInputBytes } = options;
    this.schema = schema;
    this.logger = logger;
    this.maxInputBytes = maxInputBytes;
    this.applicationName = options.applicationName;
    this.natsUrl = options.natsUrl;
    this.events = options.events;
    this.statementDurations = statementDurations;
    const dagLimits = { maxNodes: options.maxDagNodes, maxEdges: options.maxDagEdges };
    this.notifier = new DebouncedNotifier(pool, jobsChannel(schema), options.notifyDebounceMs);
    this.dags = new DagEngine({
      pool,
      s: quoteSchema(schema),
      jobsChannel: jobsChannel(schema),
      cancelChannel: cancelChannel(schema),
      limits: { ...dagLimits, maxInputBytes },
    });
    this.scheduleHost = scheduleHost(this.wiring(), this.dags);
    this.schedules = new ScheduleApi(this.scheduleHost);
    this.constraints = new ConstraintApi(this.scheduleHost);
    this.actions = new ActionApi(this.scheduleHost);
    this.inspect = new Inspector(pool, quoteSchema(schema));
    this.onTransitions = (tx, rows) => this.dags.advance(tx, rows);
  }

  /** Quoted schema, for SQL. */
  private get s(): string {
    return quoteSchema(this.schema);
  }

  /** What the wiring (jobline-wiring.ts) reads of this instance, private fields included. */
  private wiring() {
    return {
      pool: this.pool,
      schema: this.schema,
      connectionString: this.connectionString,
      applicationName: this.applicationName,
      logger: this.logger,
      maxInputBytes: this.maxInputBytes,
      insertJobs: (jobs: EnqueueSpec[], opts?: TxOption) => this.insertJobs(jobs, opts),
      natsUrl: this.natsUrl,
      events: this.events,
      topology: this.topology,
    };
  }

  /** Connects (and migrates, unless `migrate: false`). `connect<Jobs>()` types the job-shaped methods by a job map (typed-jobs.ts). */
  static connect(options?: ConnectOptions): Promise<Jobline>;
  static connect<J extends JobTypes>(options?: ConnectOptions): Promise<TypedJobline<J>>;
  static async connect(options: ConnectOptions = {}): Promise<unknown> {
    const { o, schema, logger, url, embedded, topology, pool, statementDurations } = await openConnection(options);
    const jl = new Jobline(pool, url, o, embedded, statementDurations);
    jl.topology = topology;
    jl.scheduleHost.listenUrl = topology.listenUrl;
    jl.scheduleHost.listenConfig = topology.listenConfig;
    jl.notifier = viaPublisher(jl.notifier, topology.publisher, o.notifyDebounceMs);
    try {
      // Either way a schema with migrations this code does not know stops here, unless they are
      // all additive (db/schema-version.ts, docs/migrations.md).
      const newer = o.migrate
        ? (await jl.migrate()).newer
        : (await assertNotNewer(pool, schema, await readMigrations(), RENUMBERED)).map((m) => m.name);
      if (newer.length)
        logger.warn(
          { schema, newer },
          `schema "${schema}" has additive migrations this Jobline does not ship (${newer.join(', ')}); running with them`,
        );
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
  insertJobs(jobs: EnqueueSpec[], opts: TxOption = {}, single = false): Promise<EnqueueResult[]> {
    return writeJobs(
      { pool: this.pool, schema: this.schema, s: this.s, maxInputBytes: this.maxInputBytes, notifier: this.notifier },
      jobs,
      opts,
      single,
    );
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

  /** The job; an available one that cannot start now also says why (`waitingReason`). */
  async getJob(id: number): Promise<Job> {
    const job = await getJob(this.pool, this.s, id);
    const why = await waitingReason(this.pool, this.s, job);
    if (why) job.waitingReason = why;
    return job;
  }

  /** A queue's settings (defaults when it has no row). */
  async getQueueSettings(name: string): Promise<QueueSettings> {
    const [q] = await getQueueSettings(this.pool, this.s, [name]);
    return q ?? { name, paused: false };
  }

  /** Sets a group's tier (a queue's `groupConcurrency.tiers` entry) and fair-share weight, once per group. */
  updateGroup(key: string, patch: GroupPatch): Promise<GroupSettings> {
    return updateGroup(this.pool, this.s, key, patch);
  }

  getGroup(key: string): Promise<GroupSettings> {
    return getGroup(this.pool, this.s, key);
  }

  /** Running and available jobs per group of a queue, busiest first (at most `limit`, default 100). */
  listGroups(queue: string, limit?: number): Promise<GroupCounts[]> {
    return listGroups(this.pool, this.s, queue, limit);
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
      if (c.job.dagRunId !== undefined) {
        await this.onTransitions(tx, [{ id: c.job.id, state: JobState.cancelled, dagRunId: c.job.dagRunId, dagNodeKey: c.job.dagNodeKey }]);
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
  scheduler(options: SchedulerOptions = {}): SchedulerService {
    return new SchedulerService(this.scheduleHost, options);
  }

  /** Creates a worker node (the worker runtime and the leader services it takes part in); call `start()` on it. */
  worker(options: WorkerOptions): JoblineNode {
    const w = new JoblineNode(nodeDeps(this.wiring(), this.onTransitions, this.scheduleHost), options);
    this.workers.add(w);
    return w;
  }

  /**
   * An outbox relay for a process that runs no worker (workers run one themselves); call
   * `start()`. Only the holder of the `relay` lease publishes. Needs `natsUrl`.
   */
  relay(holder = `relay-${process.pid}-${Math.random().toString(36).slice(2, 8)}`): RelayService {
    if (!this.natsUrl) throw ValidationError.field('natsUrl', 'the relay needs NATS: set NATS_URL or the natsUrl option');
    const r = new RelayService({ pool: this.pool, s: this.s, natsUrl: this.natsUrl, events: this.events, logger: this.logger, holder });
    this.relays.add(r);
    return r;
  }

  // --- Reads and helpers for applications, so they need neither the pool nor SQL (issue 11) ---

  /** Every queue with a configuration row or jobs, with job counts per state (an admin read: it counts every job; queue/list-queues.ts). */
  listQueues(): Promise<QueueInfo[]> {
    return listQueues(this.pool, this.s);
  }

  /** Readiness checks: the database answers, every migration is applied (never throws; db/health.ts). */
  health(): Promise<HealthChecks> {
    return healthChecks(this.pool, this.schema);
  }

  /** Runs `fn` in one transaction on this instance's pool; pass `{ tx }` to enqueue and submitDag so jobs commit with your writes. */
  transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T> {
    return withTransaction(this.pool, fn);
  }

  /** Yields events as they happen: from NATS when configured, else from the outbox (events/tail.ts). */
  tailEvents(opts: TailOptions = {}): AsyncGenerator<JoblineEvent> {
    return tailEvents({ pool: this.pool, s: this.s, natsUrl: this.natsUrl, events: this.events, logger: this.logger }, opts);
  }

  /** What logs and `console.log(jl)` show: never the pool or the connection string (they hold the password). */
  toJSON(): { schema: string; applicationName: string; version: string } {
    return { schema: this.schema, applicationName: this.applicationName, version: VERSION };
  }

  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return `Jobline ${JSON.stringify(this.toJSON())}`;
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
