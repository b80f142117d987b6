import type { ScheduleHost } from './host.js';
import type { ScheduleIndex } from './schedule-index.js';
import type { ResolvedSchedulerOptions } from './options.js';
import type { StatsCollector } from './stats.js';

/** What every step of a scheduler tick works with. `now` is the (injectable) clock of this tick. */
export interface TickContext {
  host: ScheduleHost;
  index: ScheduleIndex;
  o: ResolvedSchedulerOptions;
  stats: StatsCollector;
  now: Date;
  /** The index was rebuilt for this pass (a schedule missing from it really is gone). */
  freshIndex: boolean;
  /** Something in the database is not in the index: rebuild it before the next pass. */
  stale(): void;
}

/**
 * Jobs of runs whose start the scheduler is holding back (a start constraint failed before the
 * run was due, a delayed run, a pre-run hook in flight) sit in `scheduled` with this run_at,
 * which the promoter never reaches; releasing them sets run_at back.
 */
export const HELD_UNTIL = new Date('9999-01-01T00:00:00Z');

/** Idempotency key of the job (or DAG run) of a schedule run's attempt: unique per run row. */
export const runJobKey = (runId: number, attempt: number) => `schedule-run:${runId}:${attempt}`;
