import { EventEmitter } from 'node:events';
import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import type { Logger } from 'pino';
import type { Job } from '../model/job.js';
import type { Listener } from '../db/listener.js';
import { makeClaimer } from '../queue/claim.js';
import { makeGroupAwareClaimer, type GroupAwareClaimer } from '../queue/claim-groups.js';
import { ExecutorSet } from '../executors/executor-set.js';
import type { ExecutorHooks } from '../executors/types.js';
import type { WakeupSubscriber } from '../events/wakeups.js';
import { startAttemptSpan } from '../observability/tracing-consumer.js';
import { BatchingCompleter } from './completer.js';
import { ClaimLoop } from './claim-loop.js';
import { Deadlines } from './deadlines.js';
import { OutcomeWriter } from './outcome-writer.js';
import { reportOf, toOutcome } from './outcome.js';
import type { AttemptReport, SettledBy } from './attempt-kind.js';
import type { ResolvedWorkerOptions } from './options.js';
import { Attempt, type AttemptResult, type Handler } from './run-attempt.js';
import { AttemptContext, cancelled, type ContextHost } from './context.js';
import { drainWithin, graceful, releaseOnShutdown } from './shutdown.js';
import { releaseOrphans } from './own-jobs.js';
import { QueueView } from './queue-view.js';
import { handlerPicker } from './handlers.js';
import { Heartbeat } from './heartbeat.js';
import { registrar, markWorkerStopped, executorHooksFor } from './registry.js';
import { emptyWorkerStats, type WorkerDeps, type WorkerStats } from './deps.js';
import { ClaimCursorKeeper } from './claim-cursor.js';
import { recordOutcome } from './attempt-bookkeeping.js';
import { wakeSources } from './wake-sources.js';
import { OUTCOME_WRITES_IN_FLIGHT, OutcomeBackpressure } from './outcome-backpressure.js';

export type { Transition, TransitionHook } from '../queue/transitions.js';
export type { WorkerDeps, WorkerStats } from './deps.js';

/**
 * The worker runtime: claims jobs into free local slots (claim-loop.ts), runs them with their
 * deadlines (run-attempt.ts, deadlines.ts), writes their outcomes in batches (completer.ts,
 * outcome-writer.ts), heartbeats its own row, wakes on LISTEN or NATS with polling as the
 * fallback. Leader services (maintenance, relay, scheduler) are not its business: the node that
 * hosts it runs them (node/node.ts). Events: `claimed` (jobs), `outcome` (job, result,
 * report: AttemptReport), `rejected` (outcomes), `backpressure` ({ pendingOutcomes, running }:
 * claiming paused, outcome-backpressure.ts), `warning` (err).
 */
export class Worker extends EventEmitter {
  readonly id: string;
  readonly stats: WorkerStats = emptyWorkerStats();
  private readonly running = new Map<number, Attempt>();
  /** Attempts this worker started whose outcome is not written yet (job id → attempt). */
  private readonly owned = new Map<number, number>();
  private readonly claim: GroupAwareClaimer;
  private readonly loop: ClaimLoop;
  private readonly deadlines = new Deadlines(this.running);
  private readonly writer: OutcomeWriter;
  private readonly completer: BatchingCompleter;
  private readonly listener: Listener;
  /** Core NATS wake-ups beside (or instead of) LISTEN, when NATS_URL is set. */
  readonly wakeups: WakeupSubscriber | undefined;
  private readonly log: Logger;
  private readonly cursor: ClaimCursorKeeper;
  private readonly queues: QueueView;
  private readonly heartbeat: Heartbeat;
  /** Registration and heartbeat: the same upsert of this worker's row. */
  private readonly register: () => Promise<void>;
  private started = false;
  private readonly backpressure: OutcomeBackpressure;
  private stopPromise: Promise<void> | undefined;
  private forceStop: (() => void) | undefined;
  private readonly contextHost: ContextHost;
  /** Executors by kind (handler, process, container) for jobs that name a definition. */
  readonly executors: ExecutorSet;
  private readonly handlerFor: (job: Job) => Handler;
  private executorHooks: ExecutorHooks | undefined;

  /** `options` are resolved once, by the node that hosts this worker (resolveWorkerOptions). */
  constructor(
    private readonly deps: WorkerDeps,
    readonly options: ResolvedWorkerOptions,
  ) {
    super();
    const o = options;
    this.id = o.id ?? `${hostname()}-${process.pid}-${randomBytes(3).toString('hex')}`;
    this.log = deps.logger.child({ workerId: this.id });
    this.contextHost = { pool: deps.pool, s: deps.s, log: this.log };
    this.backpressure = new OutcomeBackpressure(
      o,
      () => this.completer.backlog,
      this.stats,
      (e) => this.emit('backpressure', e),
    );
    // Queues with group/rate limits (or while a group is held) go through the grouped claim.
    this.cursor = new ClaimCursorKeeper(o.claimRescanMs, o.queues.length === 1);
    this.claim = makeGroupAwareClaimer(deps.schema, makeClaimer(deps.schema), () => this.loop.wake(true), deps.statements, o.claimRescanMs);
    this.executors = new ExecutorSet(o.handlers, o.executors);
    this.writer = new OutcomeWriter(deps.pool, deps.schema, deps.s, deps.onTransitions);
    this.completer = new BatchingCompleter({
      maxBatch: o.completionBatchSize,
      flushMs: o.completionFlushMs,
      maxInFlight: OUTCOME_WRITES_IN_FLIGHT,
      write: (batch) => this.writeOutcomes(batch),
      onRetry: (err, attempt) => this.warn(err, `writing ${attempt > 1 ? 'again ' : ''}a batch of outcomes failed; retrying`),
      onWritten: () => this.backpressure.written() && this.loop.wake(false),
    });
    this.loop = new ClaimLoop({
      ...o, // concurrency, claimBatchSize, claimsInFlight, pollIntervalMs
      running: () => this.backpressure.taken(this.running.size),
      claim: (want) => this.claimAndStart(want),
      releaseOrphans: () => this.releaseOrphans(),
      warn: (err, msg) => this.warn(err, msg),
    });
    ({ listener: this.listener, wakeups: this.wakeups } = wakeSources(
      deps,
      o.queues,
      this.log,
      (channel, payload) => this.onNotify(channel, payload),
      () => this.loop.wake(true),
    ));
    this.queues = new QueueView(deps.pool, deps.s, o.queues, this.executors, (err, msg) => this.warn(err, msg));
    this.handlerFor = handlerPicker({
      ...deps,
      workerId: this.id,
      log: this.log,
      options: o,
      executors: this.executors,
      running: this.running,
      restrictClaims: () => this.queues.restrict(),
      released: (n) => void (this.stats.released += n),
    });
    this.register = registrar(
      deps.pool,
      deps.s,
      { id: this.id, queues: o.queues, concurrency: o.concurrency, version: deps.version },
      this.executors,
    );
    this.heartbeat = new Heartbeat(deps.pool, deps.s, this.register, this.running, deps.listenUrl === null, (err, msg) =>
      this.warn(err, msg),
    );
  }

  /** Jobs running right now. */
  get inFlight(): number {
    return this.running.size;
  }

  /** Outcomes not yet written (waiting for their batch or being written). */
  get pendingOutcomes(): number {
    return this.completer.backlog;
  }

  async start(): Promise<this> {
    if (this.started) return this;
    this.started = true;
    const o = this.options;
    // Executors start before the worker registers and claims: the container executor checks the
    // engine answers (a worker that offers containers and cannot run them fails here, leaving no
    // row behind, rather than per job) and reaps containers left by workers that died.
    this.executorHooks = await executorHooksFor(this.deps.pool, this.deps.s, this.deps.schema, this.id, o.staleAfterMs);
    await this.executors.start(this.executorHooks);
    await this.register();
    await this.listener.start();
    await this.wakeups?.start();
    if (this.deps.listenUrl === null && !this.wakeups) {
      this.log.warn(
        { pollIntervalMs: o.pollIntervalMs },
        'behind a transaction pooler without JOBLINE_DIRECT_URL or NATS_URL: this worker is woken by its poll only',
      );
    }
    await this.queues.start();
    this.heartbeat.start(o.heartbeatIntervalMs);
    this.loop.start();
    this.log.info(
      { queues: o.queues, concurrency: o.concurrency, executors: this.executors.kinds, resources: this.executors.resources },
      'worker started',
    );
    return this;
  }

  /** Executors' cleanup of attempts of dead workers (containers), after a rescue pass or on a follower's timer. */
  async cleanUpAfterRescue(): Promise<void> {
    if (this.executorHooks) await this.executors.afterRescue(this.executorHooks);
  }

  // ---- claiming -----------------------------------------------------------------------------

  /** The one claim call: up to `want` jobs of this worker's queues, in one statement, started at once. */
  private async claimAndStart(want: number): Promise<number> {
    const { limitedQueues: limited, claimFilter } = this.queues;
    const jobs = await this.claim(this.deps.pool, this.options.queues, want, this.id, limited, this.cursor.next(limited), claimFilter);
    this.cursor.claimed(jobs, want);
    if (!jobs.length) return 0;
    this.stats.claimed += jobs.length;
    this.stats.claimBatches++;
    this.emit('claimed', jobs);
    for (const job of jobs) this.startJob(job);
    return jobs.length;
  }

  private onNotify(channel: string, payload: string): void {
    if (channel === this.deps.jobsChannel) {
      if (this.options.queues.includes(payload)) this.loop.wake(true);
    } else if (channel === this.deps.cancelChannel) this.running.get(Number(payload))?.cancelledElsewhere(cancelled());
  }

  /** After a failed claim, with no claim in flight: see releaseOrphans (own-jobs.ts). */
  private async releaseOrphans(): Promise<void> {
    const r = await releaseOrphans(this.deps.pool, this.deps.s, this.deps.jobsChannel, this.id, this.owned);
    this.stats.released += r.released;
    if (r.jobs.length) this.log.warn(r, 'released jobs claimed by a claim whose reply was lost');
  }

  // ---- running one job ----------------------------------------------------------------------

  private startJob(job: Job): void {
    const handler = this.handlerFor(job);
    const attempt = new Attempt(job, this.options.timeoutGraceMs, this.onAttemptResult);
    const ctx = (attempt.context = new AttemptContext(this.contextHost, attempt));
    this.running.set(job.id, attempt);
    this.owned.set(job.id, job.attempt);
    this.deadlines.arm(attempt.nextDeadline);
    if (this.log.isLevelEnabled('debug')) ctx.logger.debug('job started');
    const trace = (attempt.trace = startAttemptSpan(job, this.id));
    if (!trace) return attempt.run(handler, ctx);
    // The handler (and a process or container job's TRACEPARENT) sees the attempt's own context;
    // the column keeps the creation context (observability/README.md).
    job.traceparent = trace.traceparent;
    trace.run(() => attempt.run(handler, ctx));
  }

  private report(job: Job, r: AttemptResult, report: () => AttemptReport): void {
    if (this.listenerCount('outcome')) this.emit('outcome', job, r, report()); // built only when someone listens
  }

  private readonly onAttemptResult = (attempt: Attempt, r: AttemptResult): void => {
    const { job } = attempt;
    if (this.running.get(job.id) === attempt) this.running.delete(job.id);
    this.loop.wake(false);
    const settled: SettledBy | undefined = attempt.settled;
    if (settled) {
      // Cancelled, released or shut down: the database already has this attempt's end.
      if (this.owned.get(job.id) === job.attempt) this.owned.delete(job.id);
      this.report(job, r, () => ({ kind: settled, durationMs: r.durationMs }));
      return attempt.trace?.end('cancelled');
    }
    const backoff = r.ok ? this.options.backoff : this.queues.backoff(job.queue, this.options.backoff);
    const outcome = toOutcome(job, r, backoff, this.deps.maxOutputBytes);
    this.report(job, r, () => reportOf(outcome, r));
    recordOutcome(this.stats, this.writer.nodeTraces, this.log, attempt, outcome, r);
    if (attempt.trace) attempt.trace.detached(() => this.completer.push(outcome));
    else this.completer.push(outcome);
  };

  private async writeOutcomes(batch: Parameters<OutcomeWriter['write']>[0]): Promise<void> {
    const rejected = await this.writer.write(batch);
    for (const o of batch) if (this.owned.get(o.jobId) === o.attempt) this.owned.delete(o.jobId);
    // Slots of a group found at its limit are free only now that the outcomes are written.
    if (this.claim.blockedByGroups()) this.loop.wake(true);
    if (!rejected.length) return;
    this.stats.rejected += rejected.length;
    this.log.warn(
      { rejected: rejected.map((o) => ({ jobId: o.jobId, attempt: o.attempt })) },
      'late outcomes rejected: these attempts were rescued, cancelled or released meanwhile',
    );
    this.emit('rejected', rejected);
  }

  private warn(err: unknown, msg: string): void {
    this.log.warn({ err }, msg);
    this.emit('warning', err);
  }

  // ---- shutdown ------------------------------------------------------------------------------

  /**
   * Stops claiming, lets running jobs finish within `shutdownGraceMs`, then releases the rest
   * (fenced) so another worker takes them at once, writes all outcomes and marks this worker
   * stopped.
   */
  stop(): Promise<void> {
    this.stopPromise ??= this.shutdown();
    return this.stopPromise;
  }

  /** During stop(): stop waiting for running jobs and release them now (a second signal). */
  releaseNow(): void {
    this.forceStop?.();
  }

  private async shutdown(): Promise<void> {
    await this.loop.stop();
    const grace = graceful(this.running, this.options.shutdownGraceMs);
    this.forceStop = grace.force;
    await grace.done;
    const left = [...this.running.values()];
    for (const a of left) this.running.delete(a.job.id), this.owned.delete(a.job.id);
    await releaseOnShutdown(this.deps.pool, this.deps.s, this.id, this.deps.jobsChannel, left).then(
      (n) => void (this.stats.released += n),
      (err) => this.warn(err, 'releasing running jobs failed; the rescuer will return them'),
    );
    await drainWithin(this.completer, Math.max(1000, this.options.shutdownGraceMs));
    this.heartbeat.stop();
    this.deadlines.clear();
    this.queues.stop();
    await this.listener.stop();
    await this.executors.stop(); // e.g. containers of attempts aborted above are removed
    await this.wakeups?.stop();
    await markWorkerStopped(this.deps.pool, this.deps.s, this.id).catch((err) => this.warn(err, 'marking the worker stopped failed'));
    this.log.info({ stats: this.stats }, 'worker stopped');
  }
}
