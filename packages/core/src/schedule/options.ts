import { z } from 'zod';
import { parseOrThrow } from '../schemas.js';

export interface SchedulerOptions {
  /** Lease holder id (a worker passes its own id). @default hostname-pid-random */
  id?: string;
  /** How often the leader runs a pass. @default 1000 */
  tickIntervalMs?: number;
  /**
   * How far ahead runs are materialised as scheduled jobs. A leader gap shorter than this never
   * delays a job run: the job already exists and the maintenance promoter starts it. @default 120000
   */
  aheadMs?: number;
  /** Most runs one schedule gets per pass (missed, catch-up and ahead together). @default 1000 */
  maxRunsPerPass?: number;
  /** How long before its time a run's start constraints are checked (and a failing one held). @default 1000 */
  gateLeadMs?: number;
  /** An occurrence this far in the past when first seen was missed (catch-up rules apply). @default 5000 */
  missedAfterMs?: number;
  /** A run starting this long after its time counts as late in the stats. @default 5000 */
  lateAfterMs?: number;
  /** The index is rebuilt at least this often, besides on every change notification. @default 30000 */
  indexRefreshMs?: number;
  /** One scheduler_stats row per period per leader. @default 60000 */
  statsPeriodMs?: number;
  /** scheduler_stats rows older than this are deleted. @default 30 days */
  statsRetentionMs?: number;
  /** orchestrator_stats rows (one per pass) older than this are deleted; 0 = passes are not recorded. @default 1 day */
  passStatsRetentionMs?: number;
  /** Scheduler lease time to live. @default 3000 */
  leaseTtlMs?: number;
  /** The clock (tests inject one). @default () => new Date() */
  now?: () => Date;
}

const Schema = z.strictObject({
  id: z.string().min(1).max(200).optional(),
  tickIntervalMs: z.number().int().min(10).max(600_000).default(1000),
  aheadMs: z
    .number()
    .int()
    .min(0)
    .max(7 * 24 * 3600_000)
    .default(120_000),
  maxRunsPerPass: z.number().int().min(1).max(100_000).default(1000),
  gateLeadMs: z.number().int().min(0).max(3600_000).default(1000),
  missedAfterMs: z.number().int().min(0).default(5000),
  lateAfterMs: z.number().int().min(0).default(5000),
  indexRefreshMs: z.number().int().min(100).default(30_000),
  statsPeriodMs: z.number().int().min(100).default(60_000),
  statsRetentionMs: z
    .number()
    .int()
    .min(0)
    .default(30 * 24 * 3600_000),
  passStatsRetentionMs: z
    .number()
    .int()
    .min(0)
    .default(24 * 3600_000),
  leaseTtlMs: z.number().int().min(100).default(3000),
  now: z.custom<() => Date>((v) => typeof v === 'function', 'now must be a function returning a Date').default(() => () => new Date()),
});

export type ResolvedSchedulerOptions = z.output<typeof Schema>;

export function resolveSchedulerOptions(o: SchedulerOptions = {}): ResolvedSchedulerOptions {
  return parseOrThrow(Schema, o);
}
