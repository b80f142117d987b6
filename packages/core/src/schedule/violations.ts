/** constraint_violations: written by the scheduler, read by jl.violations(). */
import type { Queryable } from '../db/pool.js';
import { VIOLATION_COLUMNS, mapViolation, type Violation, type ViolationRow } from './rows.js';
import type { ViolationType } from './schema.js';

export interface NewViolation {
  runId: number;
  scheduleId: number;
  constraintId?: number;
  type: ViolationType;
  attempt: number;
  occurredAt: Date;
  /** What the constraint itself did: skipped, delayed, cancelled or reported. */
  actionTaken: string;
  details: Record<string, unknown>;
}

/** Inserts once per (run, type, attempt); a leader re-checking after a takeover gets false. */
export async function insertViolation(db: Queryable, s: string, v: NewViolation): Promise<boolean> {
  const { rowCount } = await db.query(
    `insert into ${s}.constraint_violations (run_id, schedule_id, constraint_id, violation_type, attempt, occurred_at, action_taken, details)
     values ($1, $2, $3, $4, $5, $6, $7, $8)
     on conflict (run_id, violation_type, attempt) do nothing`,
    [v.runId, v.scheduleId, v.constraintId ?? null, v.type, v.attempt, v.occurredAt, v.actionTaken, JSON.stringify(v.details)],
  );
  return rowCount === 1;
}

export interface ViolationQuery {
  scheduleId?: number;
  type?: ViolationType;
  runId?: number;
  before?: number;
  limit: number;
}

export async function listViolations(db: Queryable, s: string, q: ViolationQuery): Promise<Violation[]> {
  const { rows } = await db.query<ViolationRow>(
    `select ${VIOLATION_COLUMNS}, sc.name as schedule_name
       from ${s}.constraint_violations v join ${s}.schedules sc on sc.id = v.schedule_id
      where ($1::bigint is null or v.schedule_id = $1) and ($2::text is null or v.violation_type = $2)
        and ($3::bigint is null or v.run_id = $3) and ($4::bigint is null or v.id < $4)
      order by v.id desc limit $5`,
    [q.scheduleId ?? null, q.type ?? null, q.runId ?? null, q.before ?? null, q.limit],
  );
  return rows.map(mapViolation);
}
