import { SCHEDULER_LEASE, Scheduler, type ResolvedSchedulerOptions, type ScheduleHost, type SchedulerOptions } from '../schedule/index.js';
import type { SchedulerStatsRow } from '../schedule/rows.js';
import type { ScheduleIndex } from '../schedule/schedule-index.js';
import type { StatsCollector } from '../schedule/stats.js';
import { LeaderService } from './leader-service.js';

/**
 * The cron scheduler as a leader service: passes run only while this process holds the
 * `scheduler` lease (schedule/scheduler.ts does the passes). `tick()`, `flushStats()` and the
 * index are the scheduler's own, here for tools and tests that drive passes by hand (they do not
 * check the lease: exactly-once holds without it, schedule/README.md).
 * Events: `leader` (boolean), and the scheduler's `tick` (ms) and `warning` (err, step).
 */
export class SchedulerService extends LeaderService {
  readonly scheduler: Scheduler;

  constructor(host: ScheduleHost, opts: SchedulerOptions = {}) {
    const scheduler = new Scheduler(host, opts);
    super({ db: host.pool, s: host.s, name: SCHEDULER_LEASE, holder: scheduler.id, ttlMs: scheduler.options.leaseTtlMs });
    this.scheduler = scheduler;
    scheduler.on('tick', (ms) => this.emit('tick', ms));
    scheduler.on('warning', (err, step) => this.emit('warning', err, step));
  }

  get id(): string {
    return this.scheduler.id;
  }
  get options(): ResolvedSchedulerOptions {
    return this.scheduler.options;
  }
  get index(): ScheduleIndex {
    return this.scheduler.index;
  }
  get stats(): StatsCollector {
    return this.scheduler.stats;
  }
  tick(): Promise<void> {
    return this.scheduler.tick();
  }
  rebuildIndex(): Promise<void> {
    return this.scheduler.rebuildIndex();
  }
  invalidate(): void {
    this.scheduler.invalidate();
  }
  flushStats(now?: Date): Promise<SchedulerStatsRow> {
    return this.scheduler.flushStats(now);
  }

  protected lead(): void {
    this.scheduler.lead();
  }

  protected follow(): void {
    this.scheduler.follow();
  }

  /** The pass in flight and the period's statistics are written before the lease is given back. */
  protected override settle(): Promise<void> {
    return this.scheduler.idle();
  }
}
