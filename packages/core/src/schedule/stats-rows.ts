/**
 * Row mapping for the scheduler leaders' statistics (`scheduler_stats`): one row per period,
 * snake_case → camelCase, nullable → optional. Split from rows.ts to keep each module a screen or two.
 */

const opt = <T>(v: T | null | undefined): T | undefined => (v === null ? undefined : v);

export interface SchedulerStatsRow {
  id: number;
  holder: string;
  periodStart: Date;
  periodEnd: Date;
  iterations: number;
  indexRebuilds: number;
  runsMaterialised: number;
  runsStarted: number;
  lateRuns: number;
  missedRuns: number;
  skippedRuns: number;
  delayedRuns: number;
  cancelledRuns: number;
  violations: number;
  actionsFired: number;
  webhookFailures: number;
  inbox: number;
  avgLagMs?: number;
  maxLagMs?: number;
  maxTickMs?: number;
}

/** An `orchestrator_stats` row (lags as numbers). */
export interface StatsRow {
  id: number;
  holder: string;
  period_start: Date;
  period_end: Date;
  iterations: number;
  index_rebuilds: number;
  runs_materialised: number;
  runs_started: number;
  late_runs: number;
  missed_runs: number;
  skipped_runs: number;
  delayed_runs: number;
  cancelled_runs: number;
  violations: number;
  actions_fired: number;
  webhook_failures: number;
  inbox: number;
  avg_lag_ms: number | null;
  max_lag_ms: number | null;
  max_tick_ms: number | null;
}

export function mapStats(r: StatsRow): SchedulerStatsRow {
  return {
    id: r.id,
    holder: r.holder,
    periodStart: r.period_start,
    periodEnd: r.period_end,
    iterations: r.iterations,
    indexRebuilds: r.index_rebuilds,
    runsMaterialised: r.runs_materialised,
    runsStarted: r.runs_started,
    lateRuns: r.late_runs,
    missedRuns: r.missed_runs,
    skippedRuns: r.skipped_runs,
    delayedRuns: r.delayed_runs,
    cancelledRuns: r.cancelled_runs,
    violations: r.violations,
    actionsFired: r.actions_fired,
    webhookFailures: r.webhook_failures,
    inbox: r.inbox,
    avgLagMs: opt(r.avg_lag_ms),
    maxLagMs: opt(r.max_lag_ms),
    maxTickMs: opt(r.max_tick_ms),
  };
}
