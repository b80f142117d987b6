import { EventEmitter } from 'node:events';
import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import type pg from 'pg';
import type { Logger } from 'pino';
import { withTransaction, type Queryable } from '../db/pool.js';
import type { Job } from '../db/rows.js';
import { anyDefinitionBeyond, makeClaimer, type ClaimCursor, type ClaimFilter } from '../queue/claim.js';
import { makeGroupAwareClaimer, type GroupAwareClaimer } from '../queue/claim-groups.js';
import { DefinitionCache } from '../definitions/cache.js';
import { ExecutorSet } from '../executors/executor-set.js';
import type { ExecutorHooks } from '../executors/types.js';
import { backoffFor, getQueueSettings, type QueueSettings } from '../queue/queue-config.js';
import { makeCompleter, type AppliedOutcome, type Outcome } from '../queue/complete.js';
import { releaseAttempts } from '../queue/release.js';
import { BatchingCompleter } from './completer.js';
import { Listener } from './listener.js';
import { WakeupSubscriber } from '../events/wakeups.js';
import { Maintenance } from './maintenance.js';
import { Relay } from '../events/relay.js';
import { Scheduler, type ScheduleHost } from '../schedule/index.js';
import type { ResolvedEventsOptions } from '../events/options.js';
import { toOutcome } from './outcome.js';
import { resolveWorkerOptions, type ResolvedWorkerOptions, type WorkerOptions } from './options.js';
import { Attempt, type AttemptResult, type Handler } from './run-attempt.js';
import { AttemptContext, cancelled, type ContextHost } from './context.js';
import { registerWorker, markWorkerStopped, liveWorkerIds } from './registry.js';
import { startAttemptSpan, type AttemptOutcome } from '../observability/tracing-consumer.js';
import { NodeTraceContexts } from './trace-contexts.js';

/** A job row that changed state, handed to DAG advancement inside the same transaction. */
export interface Transition {
  id: number;
  state: string;
  dagRunId?: number;
  dagNodeKey?: string;
}

/** What the worker needs from the Jobline instance that made it. */
export interface WorkerDeps {
  pool: pg.Pool;
  connectionString: string;
  applicationName: string;
  schema: string;
  /** Quoted schema for SQL. */
  s: string;
  jobsChannel: string;
  cancelChannel: string;
  logger: Logger;
  maxOutputBytes: number;
  version: string;
  /** Runs in the completing transaction for transitions of DAG jobs (DESIGN §4). */
  afterTransitions?: (tx: Queryable, rows: Transition[]) => Promise<void>;
  /** NATS for the event relay; unset = no relay in this process. */
  natsUrl?: string;
  events?: ResolvedEventsOptions;
  /** URL for LISTEN: undefined = connectionString, null = none possible (a transaction pooler without direct URL). */
  listenUrl?: string | null;
  listenConfig?: pg.ClientConfig;
  /** Subscribe to core NATS wake-ups (events/wakeups.ts); needs natsUrl. */
  natsWakeups?: boolean;
  /** What the cron scheduler needs; unset = no scheduler in this worker. */
  schedules?: ScheduleHost;
}

export interface WorkerStats {
  claimed: number;
  claimBatches: number;
  completed: number;
  failed: number;
  retried: number;
  timedOut: number;
  /** Late outcomes refused by the fence (the attempt had been rescued, cancelled or released). */
  rejected: number;
  released: number;
}

/** How often a container-capable worker that does not lead maintenance reaps containers of dead workers. */
const FOLLOWER_REAP_MS = 30_000;

/** How soon a changed `queues.concurrency_limit` reaches running workers. */
const QUEUE_CONFIG_REFRESH_MS = 5000;

class ShutdownError extends Error {
  constructor() {
    super('the worker is shutting down');
    this.name = 'ShutdownError';
  }
}

/**
 * The worker runtime: a claim loop that fills free local slots with one statement, a batching
 * completer, a heartbeat of the worker's own row, LISTEN wake-ups with polling as the fallback,
 * and (on the leader) the maintenance passes. Events: `claimed` (jobs), `outcome` (job, result),
 * `rejected` (outcomes), `warning` (err).
 */
export class Worker extends EventEmitter {
  readonly id: string;
  readonly options: ResolvedWorkerOptions;
  readonly stats: WorkerStats = { claimed: 0, claimBatches: 0, completed: 0, failed: 0, retried: 0, timedOut: 0, rejected: 0, released: 0 };
  private readonly running = new Map<number, Attempt>();
  /** Attempts this worker started whose outcome is not written yet (job id → attempt). */
  private readonly owned = new Map<number, number>();
  /** A claim failed: its rows may have committed with the reply lost (see releaseOrphans). */
  private orphanCheckDue = false;
  private readonly claim: GroupAwareClaimer;
  private readonly complete: ReturnType<typeof makeCompleter>;
  private readonly completer: BatchingCompleter;
  private readonly listener: Listener;
  /** Core NATS wake-ups beside (or instead of) LISTEN, when NATS_URL is set. */
  readonly wakeups: WakeupSubscriber | undefined;
  private readonly maintenance: Maintenance | undefined;
  /** The outbox relay, when NATS is configured (it publishes only while holding the `relay` lease). */
  readonly relay: Relay | undefined;
  /** The cron scheduler (it runs passes only while holding the `scheduler` lease). */
  readonly scheduler: Scheduler | undefined;
  private readonly log: Logger;
  private hasWork = true;
  private reservedSlots = 0;
  private claimFailures = 0;
  private claimBackoffUntil = 0;
  /** Where the last claim ended (see `claimRescanMs`); unset = the next claim scans from the head. */
  private claimCursor: ClaimCursor | undefined;
  private lastHeadScan = 0;
  /** This worker's queues that have a concurrency_limit; their claims take a per-queue lock. */
  private limitedQueues: string[] = [];
  /** Rows of this worker's queues (backoff overrides), re-read every few seconds. */
  private queueSettings = new Map<string, QueueSettings>();
  private queueConfigTimer: NodeJS.Timeout | undefined;
  private reapTimer: NodeJS.Timeout | undefined;
  private stopping = false;
  private started = false;
  private wakeLoop: (() => void) | undefined;
  private loopDone: Promise<void> = Promise.resolve();
  private heartbeatTimer: NodeJS.Timeout | undefined;
  private stopPromise: Promise<void> | undefined;
  private forceStop: (() => void) | undefined;
  private signalHandler: (() => void) | undefined;
  /** The one timer behind every attempt's deadlines, and the moment it is set for. */
  private deadlineTimer: NodeJS.Timeout | undefined;
  private deadlineAt = Infinity;
  private readonly contextHost: ContextHost;
  /** Executors by kind (handler, process, container) for jobs that name a definition. */
  readonly executors: ExecutorSet;
  private readonly definitions: DefinitionCache;
  /** Set while definitions exist that this worker cannot run: claims then skip their jobs. */
  private claimFilter: ClaimFilter | undefined;
  private executorHooks: ExecutorHooks | undefined;
  /** Completing attempts' span contexts of traced DAG nodes, until their batch is written. */
  private readonly nodeTraces = new NodeTraceContexts();

  constructor(private readonly deps: WorkerDeps, opts: WorkerOptions) {
    super();
    this.options = resolveWorkerOptions(opts);
    this.id = this.options.id ?? `${hostname()}-${process.pid}-${randomBytes(3).toString('hex')}`;
    this.log = deps.logger.child({ workerId: this.id });
    this.contextHost = { pool: deps.pool, s: deps.s, log: this.log };
    // Queues with group/rate limits (or while a group is held) go through the grouped claim.
    this.claim = makeGroupAwareClaimer(deps.schema, makeClaimer(deps.schema), () => this.wake(true));
    this.executors = new ExecutorSet(this.options.handlers, this.options.executors);
    this.definitions = new DefinitionCache(deps.pool, deps.s);
    this.complete = makeCompleter(deps.schema);
    this.completer = new BatchingCompleter({
      maxBatch: this.options.completionBatchSize,
      flushMs: this.options.completionFlushMs,
      maxInFlight: 2,
      write: (batch) => this.writeOutcomes(batch),
      onRetry: (err, attempt) => this.warn(err, `writing ${attempt > 1 ? 'again ' : ''}a batch of outcomes failed; retrying`),
    });
    this.listener = new Listener(
      deps.listenUrl === null ? undefined : (deps.listenUrl ?? deps.connectionString),
      `${deps.applicationName}-listener`,
      [deps.jobsChannel, deps.cancelChannel],
      (channel, payload) => this.onNotify(channel, payload),
      () => this.wake(true),
      deps.listenConfig,
    );
    if (deps.natsWakeups && deps.natsUrl) {
      this.wakeups = new WakeupSubscriber(deps.natsUrl, deps.schema, this.options.queues, `${deps.applicationName}-wakeups`, () => this.wake(true), this.log);
    }
    if (this.options.maintenance) {
      this.maintenance = new Maintenance(
        deps,
        this.id,
        this.options,
        (err, what) => this.warn(err, what),
        () => (this.executorHooks ? this.executors.afterRescue(this.executorHooks) : Promise.resolve()),
      );
    }
    if (this.options.relay && deps.natsUrl && deps.events) {
      this.relay = new Relay({ pool: deps.pool, s: deps.s, natsUrl: deps.natsUrl, events: deps.events, logger: this.log, holder: this.id });
    }
    if (this.options.scheduler !== false && deps.schedules) {
      const tuning = typeof this.options.scheduler === 'object' ? this.options.scheduler : {};
      this.scheduler = new Scheduler(deps.schedules, { leaseTtlMs: this.options.leaseTtlMs, ...tuning, id: this.id });
      this.scheduler.on('warning', (err, step) => this.warn(err, `scheduler step ${step} failed`));
    }
  }

  /** Jobs running right now. */
  get inFlight(): number {
    return this.running.size;
  }

  async start(): Promise<this> {
    if (this.started) return this;
    this.started = true;
    const o = this.options;
    // Executors start before the worker registers and claims: the container executor checks the
    // engine answers (a worker that offers containers and cannot run them fails here, leaving no
    // row behind, rather than per job) and reaps containers left by workers that died.
    const { rows } = await this.deps.pool.query('select current_database() as db');
    this.executorHooks = {
      workerId: this.id,
      scope: `${rows[0].db}/${this.deps.schema}`,
      liveWorkerIds: () => liveWorkerIds(this.deps.pool, this.deps.s, o.staleAfterMs),
    };
    await this.executors.start(this.executorHooks);
    await registerWorker(this.deps.pool, this.deps.s, this.registration());
    await this.listener.start();
    await this.wakeups?.start();
    if (this.deps.listenUrl === null && !this.wakeups) {
      this.log.warn({ pollIntervalMs: o.pollIntervalMs }, 'behind a transaction pooler without JOBLINE_DIRECT_URL or NATS_URL: this worker is woken by its poll only');
    }
    await this.refreshQueueConfig();
    this.queueConfigTimer = setInterval(() => void this.refreshQueueConfig(), QUEUE_CONFIG_REFRESH_MS);
    // The leader reaps after each rescue pass; a follower that can reach the engine does it now
    // and then too, so containers of dead workers go even when the leader has no engine access.
    if (this.executors.get('container')) {
      this.reapTimer = setInterval(() => {
        if (this.maintenance?.isLeader || !this.executorHooks) return;
        this.executors.afterRescue(this.executorHooks).catch((err) => this.warn(err, 'reaping containers of dead workers failed'));
      }, FOLLOWER_REAP_MS);
      this.reapTimer.unref();
    }
    this.heartbeatTimer = setInterval(() => void this.heartbeat(), o.heartbeatIntervalMs);
    this.maintenance?.start();
    this.relay?.start();
    if (!this.deps.natsUrl) this.log.info('NATS_URL is not set: status events stay in the outbox table (`jobline events tail` reads them); no relay runs');
    this.scheduler?.start();
    if (o.handleSignals) this.installSignalHandlers();
    this.loopDone = this.loop();
    this.log.info({ queues: o.queues, concurrency: o.concurrency, executors: this.executors.kinds, resources: this.executors.resources }, 'worker started');
    return this;
  }

  // ---- claim loop -------------------------------------------------------------------------

  /**
   * Keeps up to `claimsInFlight` claim statements running while slots are free: with one, the
   * worker idles for a claim's round trip after every batch; with two, the next batch is being
   * claimed while the previous one runs. Slots of in-flight claims are reserved.
   */
  private async loop(): Promise<void> {
    const o = this.options;
    const inFlight = new Set<Promise<void>>();
    while (!this.stopping) {
      const free = o.concurrency - this.running.size - this.reservedSlots;
      const backingOff = this.claimBackoffUntil > Date.now();
      if (this.orphanCheckDue && inFlight.size === 0 && !backingOff) {
        // No claim is in flight while this runs, so every running row of ours that is not an
        // attempt we started came from a claim whose reply was lost.
        this.orphanCheckDue = false;
        await this.releaseOrphans();
        continue;
      }
      if (free > 0 && this.hasWork && !backingOff && inFlight.size < o.claimsInFlight) {
        const want = Math.min(free, o.claimBatchSize);
        this.reservedSlots += want;
        const p: Promise<void> = this.claimBatch(want).finally(() => {
          this.reservedSlots -= want;
          inFlight.delete(p);
          this.wake(false);
        });
        inFlight.add(p);
        continue;
      }
      const wait = backingOff ? this.claimBackoffUntil - Date.now() : o.pollIntervalMs * (0.9 + Math.random() * 0.2);
      const polled = await this.sleepOrWake(wait);
      if (polled) this.hasWork = true;
    }
    await Promise.all(inFlight);
  }

  /** The cursor for the next claim, or undefined when it must scan from the head of the queue. */
  private cursorForClaim(): ClaimCursor | undefined {
    const o = this.options;
    if (!this.claimCursor || o.claimRescanMs === 0 || o.queues.length !== 1 || this.limitedQueues.length) return undefined;
    if (performance.now() - this.lastHeadScan >= o.claimRescanMs) return undefined;
    return this.claimCursor;
  }

  private async claimBatch(want: number): Promise<void> {
    let jobs: Job[];
    const after = this.cursorForClaim();
    if (!after) this.lastHeadScan = performance.now();
    try {
      jobs = await this.claim(this.deps.pool, this.options.queues, want, this.id, this.limitedQueues, after, this.claimFilter);
      this.claimFailures = 0;
    } catch (err) {
      this.warn(err, 'claiming failed; backing off');
      this.orphanCheckDue = true;
      this.claimBackoffUntil = Date.now() + Math.min(5000, 100 * 2 ** Math.min(this.claimFailures++, 6));
      return;
    }
    // A full batch means more is waiting just past its last job; a short one (or an empty one)
    // sends the next claim back to the head, where anything that sorts earlier is found.
    const last = jobs.length === want ? jobs[jobs.length - 1] : undefined;
    this.claimCursor = last && { priority: last.priority, runAt: last.runAt, id: last.id };
    this.hasWork = jobs.length === want;
    if (!jobs.length) return;
    this.stats.claimed += jobs.length;
    this.stats.claimBatches++;
    this.emit('claimed', jobs);
    for (const job of jobs) this.startJob(job);
  }

  /** Resolves true when the poll interval elapsed, false when woken earlier. */
  private sleepOrWake(ms: number): Promise<boolean> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.wakeLoop = undefined;
        resolve(true);
      }, ms);
      this.wakeLoop = () => {
        clearTimeout(timer);
        this.wakeLoop = undefined;
        resolve(false);
      };
    });
  }

  private wake(work: boolean): void {
    if (work) this.hasWork = true;
    this.wakeLoop?.();
  }

  private onNotify(channel: string, payload: string): void {
    if (channel === this.deps.jobsChannel) {
      if (this.options.queues.includes(payload)) this.wake(true);
    } else if (channel === this.deps.cancelChannel) {
      const a = this.running.get(Number(payload));
      if (a) {
        a.settled = true; // cancel() already closed the attempt in the database
        a.trace?.end('cancelled');
        a.abort(cancelled());
      }
    }
  }

  // ---- running one job --------------------------------------------------------------------

  private handlerFor(job: Job): Handler | undefined {
    return this.options.handlers[job.name] ?? this.options.resolveHandler?.(job) ?? (job.definition !== undefined ? this.runDefinition : undefined);
  }

  /**
   * Jobs that name a definition run on the executor of its kind. A job this worker cannot run
   * (claimed before the claim filter knew of its definition) is given back without using up an
   * attempt, and claims filter from then on.
   */
  private readonly runDefinition: Handler = async (input, ctx) => {
    const d = await this.definitions.get(ctx.job.definition!);
    const why = this.executors.cannotRun(d);
    if (why === undefined) return this.executors.run(d, input, ctx);
    this.claimFilter = this.executors.claimFilter();
    const a = this.running.get(ctx.job.id);
    if (a) a.settled = true;
    const message = `worker ${this.id} cannot run ${d.name}@${d.version}: ${why}; released for a worker that can`;
    this.log.info({ jobId: ctx.job.id, definition: `${d.name}@${d.version}` }, message);
    this.stats.released += await releaseAttempts(this.deps.pool, this.deps.s, [{ id: ctx.job.id, attempt: ctx.job.attempt }], this.id, this.deps.jobsChannel, {
      code: 'NOT_RUNNABLE_HERE',
      message,
    });
    throw Object.assign(new Error(message), { code: 'NOT_RUNNABLE_HERE' });
  };

  private startJob(job: Job): void {
    const handler: Handler =
      this.handlerFor(job) ??
      (() => {
        const known = Object.keys(this.options.handlers).join(', ') || '(none)';
        throw Object.assign(new Error(`worker ${this.id} has no handler for job "${job.name}" (it has: ${known})`), { code: 'NO_HANDLER' });
      });
    const attempt = new Attempt(job, this.options.timeoutGraceMs, this.onAttemptResult);
    const ctx = (attempt.context = new AttemptContext(this.contextHost, attempt));
    this.running.set(job.id, attempt);
    this.owned.set(job.id, job.attempt);
    this.armDeadline(attempt.nextDeadline);
    if (this.log.isLevelEnabled('debug')) ctx.logger.debug('job started');
    const trace = (attempt.trace = startAttemptSpan(job, this.id));
    if (!trace) return attempt.run(handler, ctx);
    // The handler (and a process or container job's TRACEPARENT) sees the attempt's own context;
    // the column keeps the creation context (observability/README.md).
    job.traceparent = trace.traceparent;
    trace.run(() => attempt.run(handler, ctx));
  }

  /** Sets the deadline timer for `at` unless it is already set for earlier. */
  private armDeadline(at: number): void {
    if (at >= this.deadlineAt) return;
    clearTimeout(this.deadlineTimer);
    this.deadlineAt = at;
    this.deadlineTimer = setTimeout(() => this.sweepDeadlines(), Math.max(0, at - performance.now()));
  }

  /**
   * Fires the signals of attempts past their timeout and abandons those past the hard deadline,
   * then sets the timer for the next deadline. Attempts that finished or heartbeated meanwhile
   * only cost a look (at most `concurrency` of them).
   */
  private sweepDeadlines(): void {
    this.deadlineTimer = undefined;
    this.deadlineAt = Infinity;
    const now = performance.now();
    let next = Infinity;
    for (const a of [...this.running.values()]) {
      a.checkDeadlines(now);
      if (this.running.get(a.job.id) === a) next = Math.min(next, a.nextDeadline);
    }
    if (next < Infinity) this.armDeadline(next);
  }

  private readonly onAttemptResult = (attempt: Attempt, r: AttemptResult): void => {
    const { job } = attempt;
    if (this.running.get(job.id) === attempt) this.running.delete(job.id);
    this.wake(false);
    this.emit('outcome', job, r);
    if (attempt.settled && this.owned.get(job.id) === job.attempt) this.owned.delete(job.id);
    if (attempt.settled) return attempt.trace?.end('cancelled'); // cancelled or released: the database already has this attempt's end
    const backoff = r.ok ? this.options.backoff : backoffFor(this.queueSettings.get(job.queue), this.options.backoff);
    const outcome = toOutcome(job, r, backoff, this.deps.maxOutputBytes);
    if (outcome.nextState === 'completed') this.stats.completed++;
    else if (outcome.nextState === 'retryable') this.stats.retried++;
    else this.stats.failed++;
    if (outcome.executionState === 'timed_out') this.stats.timedOut++;
    if (attempt.trace) {
      attempt.trace.end(outcome.executionState === 'timed_out' ? 'timed_out' : (outcome.nextState as AttemptOutcome), r.ok ? undefined : r.error);
      if (job.dagRunId !== undefined && outcome.nextState === 'completed') this.nodeTraces.remember(job.id, job.attempt, attempt.trace.traceparent);
    }
    if (outcome.nextState !== 'completed') {
      (attempt.context?.logger ?? this.log).warn({ err: outcome.errorJson && JSON.parse(outcome.errorJson), next: outcome.nextState }, 'job attempt failed');
    }
    if (attempt.trace) attempt.trace.detached(() => this.completer.push(outcome));
    else this.completer.push(outcome);
  };

  /**
   * A claim that committed but whose reply was lost (the connection died after the commit: a
   * failover, a terminated backend, a partition) leaves jobs running under this worker's id
   * that it never started; its heartbeat is alive, so the rescuer would never return them. Found
   * by the failover scenario (a job stuck in 'running' for good). After a failed claim, with no
   * claim in flight, such rows are released (fenced by attempt) to be claimed again at once.
   */
  private async releaseOrphans(): Promise<void> {
    try {
      const { rows } = await this.deps.pool.query<{ id: number; attempt: number }>(
        `select id, attempt from ${this.deps.s}.jobs where state = 'running' and worker_id = $1`,
        [this.id],
      );
      const orphans = rows.filter((r) => this.owned.get(r.id) !== r.attempt);
      if (!orphans.length) return;
      const n = await releaseAttempts(this.deps.pool, this.deps.s, orphans, this.id, this.deps.jobsChannel);
      this.stats.released += n;
      this.log.warn({ jobs: orphans.map((o) => o.id), released: n }, 'released jobs claimed by a claim whose reply was lost');
    } catch (err) {
      this.orphanCheckDue = true;
      this.claimBackoffUntil = Date.now() + 500;
      this.warn(err, 'looking for jobs of a lost claim reply failed; trying again shortly');
    }
  }

  private async writeOutcomes(batch: Outcome[]): Promise<void> {
    const dag = this.deps.afterTransitions;
    let applied: AppliedOutcome[];
    if (dag && batch.some((o) => o.inDag)) {
      applied = await withTransaction(this.deps.pool, async (tx) => {
        if (this.nodeTraces.size) await this.nodeTraces.write(tx, this.deps.s, batch);
        const a = await this.complete(tx, batch);
        const moved = a.filter((x) => x.dagRunId !== undefined && x.state !== 'retryable');
        if (moved.length) await dag(tx, moved);
        return a;
      });
      if (this.nodeTraces.size) this.nodeTraces.forget(batch);
    } else {
      applied = await this.complete(this.deps.pool, batch);
    }
    // Slots of a group found at its limit are free only now that the outcomes are written.
    if (this.claim.blockedByGroups()) this.wake(true);
    for (const o of batch) if (this.owned.get(o.jobId) === o.attempt) this.owned.delete(o.jobId);
    if (applied.length !== batch.length) {
      const ok = new Set(applied.map((a) => `${a.id}:${a.attempt}`));
      const rejected = batch.filter((o) => !ok.has(`${o.jobId}:${o.attempt}`));
      this.stats.rejected += rejected.length;
      this.log.warn(
        { rejected: rejected.map((o) => ({ jobId: o.jobId, attempt: o.attempt })) },
        'late outcomes rejected: these attempts were rescued, cancelled or released meanwhile',
      );
      this.emit('rejected', rejected);
    }
  }

  // ---- liveness and shutdown --------------------------------------------------------------

  private async refreshQueueConfig(): Promise<void> {
    try {
      const rows = await getQueueSettings(this.deps.pool, this.deps.s, this.options.queues);
      this.queueSettings = new Map(rows.map((q) => [q.name, q]));
      this.limitedQueues = rows.filter((q) => q.concurrencyLimit !== undefined).map((q) => q.name);
      if (this.executors.restricted) {
        const f = this.executors.claimFilter();
        this.claimFilter = (await anyDefinitionBeyond(this.deps.pool, this.deps.s, f)) ? f : undefined;
      }
    } catch (err) {
      this.warn(err, 'reading queue limits failed; keeping the last known ones');
    }
  }

  private async heartbeat(): Promise<void> {
    try {
      await registerWorker(this.deps.pool, this.deps.s, this.registration());
    } catch (err) {
      this.warn(err, 'heartbeat failed');
    }
    if (this.deps.listenUrl === null) await this.abortEnded();
  }

  /**
   * Without LISTEN (a transaction pooler and no direct URL) no cancel NOTIFY arrives: once per
   * heartbeat, attempts whose job is no longer running at that attempt (cancelled, or rescued and
   * re-claimed) have their signal aborted, as the NOTIFY would have done. One indexed read.
   */
  private async abortEnded(): Promise<void> {
    const mine = [...this.running.values()];
    if (!mine.length) return;
    try {
      const { rows } = await this.deps.pool.query<{ id: number }>(
        `select t.id from unnest($1::bigint[], $2::int[]) as t(id, attempt)
          where not exists (select 1 from ${this.deps.s}.jobs j where j.id = t.id and j.attempt = t.attempt and j.state = 'running')`,
        [mine.map((a) => a.job.id), mine.map((a) => a.job.attempt)],
      );
      for (const { id } of rows) {
        const a = this.running.get(id);
        if (!a) continue;
        a.settled = true; // the database already has this attempt's end
        a.abort(cancelled());
      }
    } catch (err) {
      this.warn(err, 'checking running jobs for cancellation failed');
    }
  }

  private registration() {
    const o = this.options;
    return { id: this.id, queues: o.queues, concurrency: o.concurrency, version: this.deps.version, executors: this.executors.kinds, resources: this.executors.resources };
  }

  private warn(err: unknown, msg: string): void {
    this.log.warn({ err }, msg);
    this.emit('warning', err);
  }

  private installSignalHandlers(): void {
    let count = 0;
    this.signalHandler = () => {
      count++;
      if (count === 1) {
        this.log.info('signal received: stopping gracefully (send it again to force)');
        void this.stop().then(() => process.exit(0));
      } else {
        this.log.warn('second signal: releasing running jobs now');
        this.forceStop?.();
      }
    };
    process.on('SIGTERM', this.signalHandler);
    process.on('SIGINT', this.signalHandler);
  }

  /**
   * Stops claiming, lets running jobs finish within `shutdownGraceMs`, then releases the rest
   * (fenced) so another worker takes them at once, writes all outcomes, gives up any lease and
   * marks this worker stopped.
   */
  stop(): Promise<void> {
    this.stopPromise ??= this.shutdown();
    return this.stopPromise;
  }

  private async shutdown(): Promise<void> {
    this.stopping = true;
    this.wake(false);
    await this.loopDone;
    if (this.running.size) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, this.options.shutdownGraceMs);
        this.forceStop = () => {
          clearTimeout(timer);
          resolve();
        };
        const check = () => (this.running.size === 0 ? (clearTimeout(timer), resolve()) : setTimeout(check, 10));
        check();
      });
    }
    const left = [...this.running.values()];
    if (left.length) {
      for (const a of left) {
        a.settled = true;
        a.trace?.end('released');
        a.abort(new ShutdownError());
        this.running.delete(a.job.id);
        this.owned.delete(a.job.id);
      }
      try {
        this.stats.released += await releaseAttempts(
          this.deps.pool,
          this.deps.s,
          left.map((a) => ({ id: a.job.id, attempt: a.job.attempt })),
          this.id,
          this.deps.jobsChannel,
        );
      } catch (err) {
        this.warn(err, 'releasing running jobs failed; the rescuer will return them');
      }
    }
    const drained = this.completer.drain();
    const timeout = new Promise<void>((r) => setTimeout(r, Math.max(1000, this.options.shutdownGraceMs)).unref());
    await Promise.race([drained, timeout]);
    this.completer.abandon();
    clearInterval(this.heartbeatTimer);
    clearTimeout(this.deadlineTimer);
    clearInterval(this.queueConfigTimer);
    clearInterval(this.reapTimer);
    await this.maintenance?.stop();
    await this.relay?.stop();
    await this.scheduler?.stop();
    await this.listener.stop();
    await this.executors.stop(); // e.g. containers of attempts aborted above are removed
    await this.wakeups?.stop();
    await markWorkerStopped(this.deps.pool, this.deps.s, this.id).catch((err) => this.warn(err, 'marking the worker stopped failed'));
    if (this.signalHandler) {
      process.off('SIGTERM', this.signalHandler);
      process.off('SIGINT', this.signalHandler);
    }
    this.log.info({ stats: this.stats }, 'worker stopped');
  }
}
