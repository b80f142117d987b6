import type { EnqueueResult } from './queue/enqueue.js';
import type pg from 'pg';
import type { Logger } from 'pino';
import type { EmbeddedServer } from './db/embedded.js';
import { quoteSchema } from './db/identifiers.js';
import { statementHistogram } from './db/query-log.js';
import type { Histogram } from './observability/metrics.js';
import { withTransaction } from './db/pool.js';
import type { Topology } from './topology.js';
import { ValidationError } from './db/errors.js';
import type { Job, JobExecution } from './model/job.js';
import { DebouncedNotifier, cancelChannel, jobsChannel, type Debounced } from './queue/notify.js';
import { scheduleHost } from './jobline-wiring.js';
import { getQueueSettings, updateQueue, type QueueConfig, type QueueSettings } from './queue/queue-config.js';
import { getJob, listExecutions, listJobs, type JobFilter, type JobPage } from './queue/read.js';
import { Inspector } from './inspector.js';
import { waitingReason } from './queue/groups.js';
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
import type { JoblineNode } from './node/node.js';
import type { RelayService } from './node/relay-service.js';
import { DagEngine, type DagRunDetail } from './dag/index.js';
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
import type { EnqueueSpec, TxOption } from './connect-options.js';

/**
 * Jobline's state and its reads and settings calls (definitions, queues, jobs, DAG reads,
 * schedule statistics, app helpers). `JoblineTenants` (jobline-tenants.ts) adds groups and quotas,
 * `Jobline` (jobline.ts) connecting, writing jobs and DAGs, workers, relays and close; split so that
 * no file is a wall of one-line delegations (issue 11: modules of a screen or two).
 */
export abstract class JoblineBase {
  /** Writes jobs (jobline.ts); the schedule and node wiring enqueue through it. */
  abstract insertJobs(jobs: EnqueueSpec[], opts?: TxOption, single?: boolean): Promise<EnqueueResult[]>;

  protected notifier: Debounced;
  /** Pooler mode, direct URL, named statements, wake-up transport (topology.ts). */
  protected topology: Topology | undefined;
  protected readonly workers = new Set<JoblineNode>();
  /** `application_name` of this instance's connections. */
  readonly applicationName: string;
  /** Schema holding Jobline's tables. */
  readonly schema: string;
  readonly logger: Logger;
  /** Largest job input or output, as JSON bytes. */
  readonly maxInputBytes: number;
  /** DAG advancement, injected into whatever finishes jobs (completer, rescuer, cancel) at construction. */
  protected readonly onTransitions: TransitionHook;
  protected readonly dags: DagEngine;
  /** Cron schedules: add, list, update, pause, resume, remove, runs, trigger (schedule/README.md). */
  readonly schedules: ScheduleApi;
  /** Run constraints that schedules name (max concurrent runs, catch-up, run times, hooks, …). */
  readonly constraints: ConstraintApi;
  /** Actions schedules bind to triggers (retry, kick_off_job, webhook, kill_*, skip_next_instance). */
  readonly actions: ActionApi;
  protected readonly scheduleHost: ScheduleHost;
  /** Bounded reads for dashboards: queues with depth, throughput, workers, outbox, job search, DAG runs. */
  readonly inspect: Inspector;
  protected readonly relays = new Set<RelayService>();
  /** NATS for status events (it may hold credentials: private); undefined = no relay, tails read the outbox. */
  protected readonly natsUrl: string | undefined;
  /** Resolved event settings (stream, subject prefix, relay tuning). */
  readonly events: ResolvedEventsOptions;
  /** Durations of this instance's statements by name; register it in a MetricsRegistry to expose it. */
  readonly statementDurations: Histogram<'statement'>;

  /**
   * `pool` and `connectionString` (which holds the password) are private, like every resolved
   * option: code inside the repository reaches them through `@jobline/core/internal`.
   */
  protected constructor(
    protected readonly pool: pg.Pool,
    protected readonly connectionString: string,
    protected readonly options: ResolvedConnectOptions,
    protected readonly embedded: EmbeddedServer | undefined,
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
  protected get s(): string {
    return quoteSchema(this.schema);
  }

  /** What the wiring (jobline-wiring.ts) reads of this instance, private fields included. */
  protected wiring() {
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

  listJobs(filter: JobFilter = {}): Promise<JobPage> {
    return listJobs(this.pool, this.s, filter);
  }

  executions(id: number): Promise<JobExecution[]> {
    return listExecutions(this.pool, this.s, id);
  }

  /** The run, every node's state, attempts and timings, and the edges. */
  getDag(id: number): Promise<DagRunDetail> {
    return this.dags.get(id);
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
}
