import { EventEmitter } from 'node:events';
import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import type pg from 'pg';
import type { Logger } from 'pino';
import { withTransaction, type Queryable } from '../db/pool.js';
import type { Job } from '../db/rows.js';
import { makeClaimer } from '../queue/claim.js';
import { backoffFor, getQueueSettings, type QueueSettings } from '../queue/queue-config.js';
import { makeCompleter, type AppliedOutcome, type Outcome } from '../queue/complete.js';
import { releaseAttempts, touchAttempt } from '../queue/release.js';
import { BatchingCompleter } from './completer.js';
import { Listener } from './listener.js';
import { Maintenance } from './maintenance.js';
import { Relay } from '../events/relay.js';
import { Scheduler, type ScheduleHost } from '../schedule/index.js';
import type { ResolvedEventsOptions } from '../events/options.js';
import { toOutcome } from './outcome.js';
import { resolveWorkerOptions, type ResolvedWorkerOptions, type WorkerOptions } from './options.js';
import { runAttempt, type AttemptControl, type AttemptResult, type Handler, type JobContext } from './run-attempt.js';
import { registerWorker, markWorkerStopped } from './registry.js';

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

interface Running {
  job: Job;
  control: AttemptControl;
  /** Set when cancel or shutdown already closed the attempt in the database. */
  settled: boolean;
}

/** How soon a changed `queues.concurrency_limit` reaches running workers. */
const QUEUE_CONFIG_REFRESH_MS = 5000;

class ShutdownError extends Error {
  constructor() {
    super('the worker is shutting down');
    this.name = 'ShutdownError';
  }
}
class CancelledError extends Error {
  constructor() {
    super('the job was cancelled');
    this.name = 'CancelledError';
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
  private readonly running = new Map<number, Running>();
  private readonly claim: ReturnType<typeof makeClaimer>;
  private readonly complete: ReturnType<typeof makeCompleter>;
  private readonly completer: BatchingCompleter;
  private readonly listener: Listener;
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
  /** This worker's queues that have a concurrency_limit; their claims take a per-queue lock. */
  private limitedQueues: string[] = [];
  /** Rows of this worker's queues (backoff overrides), re-read every few seconds. */
  private queueSettings = new Map<string, QueueSettings>();
  private queueConfigTimer: NodeJS.Timeout | undefined;
  private stopping = false;
  private started = false;
  private wakeLoop: (() => void) | undefined;
  private loopDone: Promise<void> = Promise.resolve();
  private heartbeatTimer: NodeJS.Timeout | undefined;
  private stopPromise: Promise<void> | undefined;
  private forceStop: (() => void) | undefined;
  private signalHandler: (() => void) | undefined;

  constructor(private readonly deps: WorkerDeps, opts: WorkerOptions) {
    super();
    this.options = resolveWorkerOptions(opts);
    this.id = this.options.id ?? `${hostname()}-${process.pid}-${randomBytes(3).toString('hex')}`;
    this.log = deps.logger.child({ workerId: this.id });
    this.claim = makeClaimer(deps.schema);
    this.complete = makeCompleter(deps.schema);
    this.completer = new BatchingCompleter({
      maxBatch: this.options.completionBatchSize,
      flushMs: this.options.completionFlushMs,
      maxInFlight: 2,
      write: (batch) => this.writeOutcomes(batch),
      onRetry: (err, attempt) => this.warn(err, `writing ${attempt > 1 ? 'again ' : ''}a batch of outcomes failed; retrying`),
    });
    this.listener = new Listener(
      deps.connectionString,
      `${deps.applicationName}-listener`,
      [deps.jobsChannel, deps.cancelChannel],
      (channel, payload) => this.onNotify(channel, payload),
      () => this.wake(true),
    );
    if (this.options.maintenance) {
      this.maintenance = new Maintenance(deps, this.id, this.options, (err, what) => this.warn(err, what));
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
    await registerWorker(this.deps.pool, this.deps.s, {
      id: this.id,
      queues: o.queues,
      concurrency: o.concurrency,
      version: this.deps.version,
    });
    await this.listener.start();
    await this.refreshQueueConfig();
    this.queueConfigTimer = setInterval(() => void this.refreshQueueConfig(), QUEUE_CONFIG_REFRESH_MS);
    this.heartbeatTimer = setInterval(() => void this.heartbeat(), o.heartbeatIntervalMs);
    this.maintenance?.start();
    this.relay?.start();
    if (!this.deps.natsUrl) this.log.info('NATS_URL is not set: status events stay in the outbox table (`jobline events tail` reads them); no relay runs');
    this.scheduler?.start();
    if (o.handleSignals) this.installSignalHandlers();
    this.loopDone = this.loop();
    this.log.info({ queues: o.queues, concurrency: o.concurrency }, 'worker started');
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

  private async claimBatch(want: number): Promise<void> {
    let jobs: Job[];
    try {
      jobs = await this.claim(this.deps.pool, this.options.queues, want, this.id, this.limitedQueues);
      this.claimFailures = 0;
    } catch (err) {
      this.warn(err, 'claiming failed; backing off');
      this.claimBackoffUntil = Date.now() + Math.min(5000, 100 * 2 ** Math.min(this.claimFailures++, 6));
      return;
    }
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
      const r = this.running.get(Number(payload));
      if (r) {
        r.settled = true; // cancel() already closed the attempt in the database
        r.control.controller.abort(new CancelledError());
      }
    }
  }

  // ---- running one job --------------------------------------------------------------------

  private handlerFor(job: Job): Handler | undefined {
    return this.options.handlers[job.name] ?? this.options.resolveHandler?.(job);
  }

  private startJob(job: Job): void {
    const handler: Handler =
      this.handlerFor(job) ??
      (() => {
        const known = Object.keys(this.options.handlers).join(', ') || '(none)';
        throw Object.assign(new Error(`worker ${this.id} has no handler for job "${job.name}" (it has: ${known})`), { code: 'NO_HANDLER' });
      });
    // A pino child per job costs more than a no-op handler: made only when something logs.
    let child: Logger | undefined;
    const logger = () => (child ??= this.log.child({ jobId: job.id, queue: job.queue, attempt: job.attempt, job: job.name }));
    const entry = {} as Running;
    const { control, result } = runAttempt(job, handler, (control) => this.makeContext(job, control, logger), this.options.timeoutGraceMs);
    Object.assign(entry, { job, control, settled: false });
    this.running.set(job.id, entry);
    if (this.log.isLevelEnabled('debug')) logger().debug('job started');
    void result.then((r) => this.finishJob(entry, r, logger));
  }

  private makeContext(job: Job, control: AttemptControl, logger: () => Logger): JobContext {
    let lastWrite = -Infinity; // the first heartbeat always writes
    const write = async (progress: number | null): Promise<boolean> => {
      const now = performance.now();
      if (progress === null && now - lastWrite < 1000) return !control.controller.signal.aborted;
      lastWrite = now;
      const alive = await touchAttempt(this.deps.pool, this.deps.s, job.id, job.attempt, progress);
      if (!alive && !control.controller.signal.aborted) control.controller.abort(new CancelledError());
      return alive;
    };
    return {
      job,
      attempt: job.attempt,
      signal: control.controller.signal,
      get logger() {
        return logger();
      },
      heartbeat: async () => {
        if (control.controller.signal.aborted) return false;
        control.touch();
        return write(null);
      },
      progress: async (n: number) => {
        if (!Number.isFinite(n)) throw new TypeError('progress must be a finite number');
        await write(n);
      },
    };
  }

  private finishJob(entry: Running, r: AttemptResult, logger: () => Logger): void {
    const { job } = entry;
    if (this.running.get(job.id) === entry) this.running.delete(job.id);
    this.wake(false);
    this.emit('outcome', job, r);
    if (entry.settled) return; // cancelled or released: the database already has this attempt's end
    const outcome = toOutcome(job, r, backoffFor(this.queueSettings.get(job.queue), this.options.backoff), this.deps.maxOutputBytes);
    if (outcome.nextState === 'completed') this.stats.completed++;
    else if (outcome.nextState === 'retryable') this.stats.retried++;
    else this.stats.failed++;
    if (outcome.executionState === 'timed_out') this.stats.timedOut++;
    if (outcome.nextState !== 'completed') logger().warn({ err: outcome.errorJson && JSON.parse(outcome.errorJson), next: outcome.nextState }, 'job attempt failed');
    this.completer.push(outcome);
  }

  private async writeOutcomes(batch: Outcome[]): Promise<void> {
    const dag = this.deps.afterTransitions;
    let applied: AppliedOutcome[];
    if (dag && batch.some((o) => o.inDag)) {
      applied = await withTransaction(this.deps.pool, async (tx) => {
        const a = await this.complete(tx, batch);
        const moved = a.filter((x) => x.dagRunId !== undefined && x.state !== 'retryable');
        if (moved.length) await dag(tx, moved);
        return a;
      });
    } else {
      applied = await this.complete(this.deps.pool, batch);
    }
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
    } catch (err) {
      this.warn(err, 'reading queue limits failed; keeping the last known ones');
    }
  }

  private async heartbeat(): Promise<void> {
    try {
      await registerWorker(this.deps.pool, this.deps.s, {
        id: this.id,
        queues: this.options.queues,
        concurrency: this.options.concurrency,
        version: this.deps.version,
      });
    } catch (err) {
      this.warn(err, 'heartbeat failed');
    }
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
      for (const r of left) {
        r.settled = true;
        r.control.controller.abort(new ShutdownError());
        this.running.delete(r.job.id);
      }
      try {
        this.stats.released += await releaseAttempts(
          this.deps.pool,
          this.deps.s,
          left.map((r) => ({ id: r.job.id, attempt: r.job.attempt })),
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
    clearInterval(this.queueConfigTimer);
    await this.maintenance?.stop();
    await this.relay?.stop();
    await this.scheduler?.stop();
    await this.listener.stop();
    await markWorkerStopped(this.deps.pool, this.deps.s, this.id).catch((err) => this.warn(err, 'marking the worker stopped failed'));
    if (this.signalHandler) {
      process.off('SIGTERM', this.signalHandler);
      process.off('SIGINT', this.signalHandler);
    }
    this.log.info({ stats: this.stats }, 'worker stopped');
  }
}
