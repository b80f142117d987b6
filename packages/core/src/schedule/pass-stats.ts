/**
 * Orchestrator statistics: one `orchestrator_stats` row per scheduler pass — its runtime, the
 * constraints it checked and the actions it took — beside the per-period `scheduler_stats`.
 * The pass's counts are the differences of the leader's StatsCollector counters over the pass,
 * so the steps count once for both tables. One insert per pass on the leader only (default a
 * pass a second); old rows go with the period flush.
 */
import type { Queryable } from '../db/pool.js';
import { labelled } from '../db/query-log.js';
import type { StatCounter, StatsCollector } from './stats.js';

const PASS_COUNTERS = ['constraintsChecked', 'actionsFired', 'runsMaterialised', 'violations'] as const satisfies readonly StatCounter[];

export interface OrchestratorPass {
  id: number;
  /** Scheduler id that ran the pass. */
  holder: string;
  startedAt: Date;
  runtimeMs: number;
  /** Schedules in the index during the pass. */
  schedules: number;
  /** Start checks of gated runs and run-time limit checks of running runs. */
  constraintsChecked: number;
  /** Actions fired (retry, kick_off_job, webhook, kill_*, skip_next_instance). */
  actionsTaken: number;
  runsMaterialised: number;
  violations: number;
  /** Steps that failed (retried next pass). */
  failedSteps: string[];
}

/** Counter values at the start of a pass. */
export function snapshot(stats: StatsCollector): number[] {
  return PASS_COUNTERS.map((c) => stats.get(c));
}

export async function recordPass(
  db: Queryable,
  s: string,
  p: { holder: string; startedAt: Date; runtimeMs: number; schedules: number; failedSteps: string[] },
  stats: StatsCollector,
  before: number[],
): Promise<void> {
  const [constraintsChecked, actionsTaken, runsMaterialised, violations] = PASS_COUNTERS.map((c, i) => stats.get(c) - before[i]);
  await db.query(
    labelled(
      'record scheduler pass',
      `insert into ${s}.orchestrator_stats (holder, started_at, runtime_ms, schedules, constraints_checked, actions_taken,
              runs_materialised, violations, failed_steps) values ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
      [p.holder, p.startedAt, p.runtimeMs, p.schedules, constraintsChecked, actionsTaken, runsMaterialised, violations, p.failedSteps],
    ),
  );
}

export async function prunePasses(db: Queryable, s: string, now: Date, retentionMs: number): Promise<void> {
  await db.query(`delete from ${s}.orchestrator_stats where started_at < $1::timestamptz - $2 * interval '1 millisecond'`, [
    now,
    retentionMs,
  ]);
}

export interface PassFilter {
  /** Passes of one scheduler. */
  holder?: string;
  /** Passes that started at or after this time. */
  since?: Date;
  /** @default 50, at most 1000 */
  limit?: number;
}

export async function listPasses(db: Queryable, s: string, f: PassFilter = {}): Promise<OrchestratorPass[]> {
  const limit = Math.max(1, Math.min(Math.trunc(f.limit ?? 50) || 50, 1000));
  const { rows } = await db.query(
    `select * from ${s}.orchestrator_stats where ($1::text is null or holder = $1) and ($2::timestamptz is null or started_at >= $2)
      order by started_at desc, id desc limit $3`,
    [f.holder ?? null, f.since ?? null, limit],
  );
  return rows.map((r) => ({
    id: r.id,
    holder: r.holder,
    startedAt: r.started_at,
    runtimeMs: r.runtime_ms,
    schedules: r.schedules,
    constraintsChecked: r.constraints_checked,
    actionsTaken: r.actions_taken,
    runsMaterialised: r.runs_materialised,
    violations: r.violations,
    failedSteps: r.failed_steps,
  }));
}
