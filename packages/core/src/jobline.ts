import { RENUMBERED, migrate, readMigrations, type MigrateResult } from './db/migrate.js';
import { assertNotNewer } from './db/schema-version.js';
import { withTransaction } from './db/pool.js';
import { ValidationError } from './db/errors.js';
import type { Job } from './model/job.js';
import { JobState } from './model/states.js';
import { cancelJob } from './queue/cancel.js';
import type { EnqueueResult } from './queue/enqueue.js';
import { writeJobs } from './write-jobs.js';
import { openConnection } from './connect.js';
import { cancelChannel, jobsChannel } from './queue/notify.js';
import { nodeDeps, viaPublisher } from './jobline-wiring.js';
import { retryJob, retryMatching, type BulkRetryResult, type RetryFilter } from './queue/retry-now.js';
import { JoblineNode } from './node/node.js';
import { RelayService } from './node/relay-service.js';
import { SchedulerService } from './node/scheduler-service.js';
import type { DagRunDetail, DagSpec, SubmittedDag } from './dag/index.js';
import type { WorkerOptions } from './worker/options.js';
import type { SchedulerOptions } from './schedule/index.js';
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
import { JoblineTenants } from './jobline-tenants.js';

/** The library's entry point (DESIGN §6). One per process; it owns one pool. */
export class Jobline extends JoblineTenants {
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

  /** Cancels every unfinished node of a running run; running nodes' signals are aborted. */
  cancelDag(id: number): Promise<DagRunDetail> {
    return this.dags.cancel(id);
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
