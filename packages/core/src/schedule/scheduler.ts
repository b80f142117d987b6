/**
 * The scheduler: a pass every `tickIntervalMs` while leading. Who leads is decided outside: the
 * `scheduler` leader service (node/scheduler-service.ts) calls `lead()` while it holds the lease
 * and `follow()` when it loses it.
 * A pass: follow runs (statuses, time limits) → materialise upcoming runs → check runs about
 * to start → run pending actions → statistics. Correctness never rests on the lease: every
 * write is keyed or locked so that two overlapping leaders cannot double a run, a violation or
 * an action's job (see README.md, "Exactly once").
 */
import { EventEmitter } from 'node:events';
import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import { Listener } from '../db/listener.js';
import type { TickContext } from './context.js';
import { gate } from './gate.js';
import { handleFinishedRuns, handleViolations } from './handle.js';
import { schedulesChannel, type ScheduleHost } from './host.js';
import { materialise } from './materialise.js';
import { resolveSchedulerOptions, type ResolvedSchedulerOptions, type SchedulerOptions } from './options.js';
import type { SchedulerStatsRow } from './rows.js';
import { ScheduleIndex } from './schedule-index.js';
import { StatsCollector, countInbox } from './stats.js';
import { prunePasses, recordPass, snapshot } from './pass-stats.js';
import { enforceRunTimes, syncRuns } from './sync.js';

export const SCHEDULER_LEASE = 'scheduler';

/** Events: `tick` (ms), `warning` (err, step). */
export class Scheduler extends EventEmitter {
  readonly id: string;
  readonly options: ResolvedSchedulerOptions;
  readonly index = new ScheduleIndex();
  readonly stats: StatsCollector;
  private listener: Listener | undefined;
  private timer: NodeJS.Timeout | undefined;
  private leading = false;
  private dirty = true;
  private inFlight: Promise<void> = Promise.resolve();

  constructor(
    private readonly host: ScheduleHost,
    opts: SchedulerOptions = {},
  ) {
    super();
    this.options = resolveSchedulerOptions(opts);
    this.id = this.options.id ?? `${hostname()}-${process.pid}-${randomBytes(3).toString('hex')}`;
    this.stats = new StatsCollector(this.options.now());
  }

  get isLeading(): boolean {
    return this.leading;
  }

  /** Resolves after the pass in flight and the statistics written on `follow()`. */
  idle(): Promise<void> {
    return this.inFlight;
  }

  /** Marks the index stale: the next pass rebuilds it first. */
  invalidate(): void {
    this.dirty = true;
  }

  /** Starts the passes (this process now holds the `scheduler` lease). */
  lead(): void {
    if (this.leading) return;
    this.leading = true;
    this.dirty = true;
    this.stats.periodStart = this.options.now();
    this.host.logger.info({ scheduler: this.id }, 'became scheduler leader');
    this.listener = new Listener(
      this.host.listenUrl === null ? undefined : (this.host.listenUrl ?? this.host.connectionString),
      `${this.host.applicationName}-scheduler`,
      [schedulesChannel(this.host.schema)],
      () => this.onChange(),
      () => this.onChange(),
      this.host.listenConfig,
    );
    // Not awaited: the first pass runs at once, and the listener's onListening (onChange above)
    // rebuilds again once LISTEN is in place, covering changes made in between.
    this.listener.start().catch((err) => this.emit('warning', err, 'listen')); // the interval rebuild still applies
    this.schedule(0);
  }

  /** Stops the passes after the one in flight and writes the period so far. */
  follow(): void {
    if (!this.leading) return;
    this.leading = false;
    clearTimeout(this.timer);
    void this.listener?.stop();
    this.listener = undefined;
    // The period so far, written after the pass in flight (never lost with the leadership).
    this.inFlight = this.inFlight
      .then(() => this.flushStats())
      .then(
        () => undefined,
        (err) => void this.emit('warning', err, 'stats'),
      );
  }

  private onChange(): void {
    this.dirty = true;
    if (this.leading) this.schedule(20);
  }

  private schedule(ms: number): void {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.inFlight = this.inFlight.then(async () => {
        if (!this.leading) return;
        await this.tick().catch((err) => this.emit('warning', err, 'tick'));
        if (this.leading) this.schedule(this.options.tickIntervalMs);
      });
    }, ms);
    this.timer.unref();
  }

  /**
   * One pass. The leader loop calls it; tests and tools may call it directly (it does not check
   * the lease — exactly-once holds without it). Each step's failure is reported and the others
   * still run.
   */
  async tick(): Promise<void> {
    const started = performance.now();
    const now = this.options.now();
    const before = snapshot(this.stats);
    const failedSteps: string[] = [];
    const rebuild = this.dirty || Date.now() - this.index.builtAt >= this.options.indexRefreshMs;
    if (rebuild) await this.rebuildIndex();
    const ctx: TickContext = {
      host: this.host,
      index: this.index,
      o: this.options,
      stats: this.stats,
      now,
      freshIndex: rebuild,
      stale: () => this.invalidate(),
    };
    if (this.index.size > 0) {
      for (const [name, step] of STEPS) {
        try {
          await step(ctx);
        } catch (err) {
          failedSteps.push(name);
          this.host.logger.warn({ err, step: name }, 'scheduler step failed; the next pass retries it');
          this.emit('warning', err, name);
        }
      }
    }
    const ms = performance.now() - started;
    this.stats.tick(ms);
    // Passes with no schedules are not recorded: every worker runs a scheduler by default.
    if (this.options.passStatsRetentionMs > 0 && this.index.size > 0) {
      const pass = { holder: this.id, startedAt: now, runtimeMs: ms, schedules: this.index.size, failedSteps };
      await recordPass(this.host.pool, this.host.s, pass, this.stats, before).catch((err) => this.emit('warning', err, 'pass-stats'));
    }
    this.emit('tick', ms);
    if (now.getTime() - this.stats.periodStart.getTime() >= this.options.statsPeriodMs) await this.flushStats(now);
  }

  async rebuildIndex(): Promise<void> {
    this.dirty = false;
    try {
      await this.index.rebuild(this.host.pool, this.host.s, this.host.logger);
      this.stats.add('indexRebuilds');
    } catch (err) {
      this.dirty = true;
      throw err;
    }
  }

  /** Writes the current period's scheduler_stats row and starts the next period. */
  async flushStats(now = this.options.now()): Promise<SchedulerStatsRow> {
    const inbox = await countInbox(this.host.pool, this.host.s, now);
    if (this.options.passStatsRetentionMs > 0) await prunePasses(this.host.pool, this.host.s, now, this.options.passStatsRetentionMs);
    return this.stats.flush(this.host.pool, this.host.s, this.id, now, inbox, this.options.statsRetentionMs);
  }
}

const STEPS: [string, (ctx: TickContext) => Promise<unknown>][] = [
  ['sync', syncRuns],
  ['run-times', enforceRunTimes],
  ['materialise', materialise],
  ['gate', gate],
  ['finished-runs', handleFinishedRuns],
  ['violations', handleViolations],
];
