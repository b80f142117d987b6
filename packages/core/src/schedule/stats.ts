/**
 * Scheduler statistics: counters kept in memory by the leader and written as one
 * `scheduler_stats` row per period (and when leadership ends), so watching the scheduler costs
 * one insert a minute, not a write per run.
 */
import type { Queryable } from '../db/pool.js';
import { mapStats, type SchedulerStatsRow, type StatsRow } from './rows.js';
import { sqlList } from '../model/sql.js';
import { RunPending } from '../model/states.js';

export type StatCounter =
  | 'iterations'
  | 'indexRebuilds'
  | 'runsMaterialised'
  | 'runsStarted'
  | 'lateRuns'
  | 'missedRuns'
  | 'skippedRuns'
  | 'delayedRuns'
  | 'cancelledRuns'
  | 'violations'
  | 'actionsFired'
  | 'webhookFailures'
  /** Per pass only (orchestrator_stats, pass-stats.ts): not a scheduler_stats column. */
  | 'constraintsChecked';

const COUNTERS: StatCounter[] = [
  'iterations',
  'indexRebuilds',
  'runsMaterialised',
  'runsStarted',
  'lateRuns',
  'missedRuns',
  'skippedRuns',
  'delayedRuns',
  'cancelledRuns',
  'violations',
  'actionsFired',
  'webhookFailures',
];

export class StatsCollector {
  private c = new Map<StatCounter, number>();
  private lagSum = 0;
  private lagCount = 0;
  private lagMax: number | undefined;
  private tickMax: number | undefined;
  periodStart: Date;

  constructor(now: Date) {
    this.periodStart = now;
  }

  add(name: StatCounter, n = 1): void {
    if (n) this.c.set(name, (this.c.get(name) ?? 0) + n);
  }

  get(name: StatCounter): number {
    return this.c.get(name) ?? 0;
  }

  /** A run started `lagMs` after its scheduled time. */
  started(lagMs: number, lateAfterMs: number): void {
    this.add('runsStarted');
    if (lagMs > lateAfterMs) this.add('lateRuns');
    this.lagSum += lagMs;
    this.lagCount++;
    this.lagMax = Math.max(this.lagMax ?? 0, lagMs);
  }

  tick(ms: number): void {
    this.add('iterations');
    this.tickMax = Math.max(this.tickMax ?? 0, ms);
  }

  /** Writes the period's row and starts a new period; `inbox` is measured by the caller at the end. */
  async flush(db: Queryable, s: string, holder: string, now: Date, inbox: number, retentionMs: number): Promise<SchedulerStatsRow> {
    const v = COUNTERS.map((k) => this.get(k));
    const { rows } = await db.query<StatsRow>(
      `insert into ${s}.scheduler_stats (holder, period_start, period_end, iterations, index_rebuilds, runs_materialised,
              runs_started, late_runs, missed_runs, skipped_runs, delayed_runs, cancelled_runs, violations, actions_fired,
              webhook_failures, inbox, avg_lag_ms, max_lag_ms, max_tick_ms)
       values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19)
       returning *`,
      [
        holder,
        this.periodStart,
        now,
        ...v,
        inbox,
        this.lagCount ? this.lagSum / this.lagCount : null,
        this.lagMax ?? null,
        this.tickMax ?? null,
      ],
    );
    await db.query(`delete from ${s}.scheduler_stats where period_end < $1::timestamptz - $2 * interval '1 millisecond'`, [
      now,
      retentionMs,
    ]);
    this.c = new Map();
    this.lagSum = 0;
    this.lagCount = 0;
    this.lagMax = undefined;
    this.tickMax = undefined;
    this.periodStart = now;
    return mapStats(rows[0]);
  }
}

/** Due runs that have not started: materialised and due, or held/delayed past their time. */
export async function countInbox(db: Queryable, s: string, now: Date): Promise<number> {
  const { rows } = await db.query<{ n: number }>(
    `select count(*)::int as n from ${s}.schedule_runs r
      where r.status in (${sqlList(RunPending)}) and r.scheduled_at <= $1 and r.started_at is null`,
    [now],
  );
  return rows[0].n;
}

export async function listStats(db: Queryable, s: string, limit: number): Promise<SchedulerStatsRow[]> {
  const { rows } = await db.query<StatsRow>(`select * from ${s}.scheduler_stats order by period_end desc, id desc limit $1`, [limit]);
  return rows.map(mapStats);
}
