/**
 * Statements on single schedule runs, shared by the start check, the time limits and the
 * actions. All take the caller's transaction.
 */
import type { Queryable } from '../db/pool.js';
import { cancelJobs } from '../queue/cancel.js';
import { HELD_UNTIL } from './context.js';
import type { ScheduleHost } from './host.js';
import { RUN_COLUMNS, mapRun, type ScheduleRun, type ScheduleRunRow } from './rows.js';
import { sqlLit } from '../model/sql.js';
import { JobState, RunStatus } from '../model/states.js';

export async function getRun(db: Queryable, s: string, id: number): Promise<ScheduleRun | undefined> {
  const { rows } = await db.query<ScheduleRunRow>(`select ${RUN_COLUMNS} from ${s}.schedule_runs r where r.id = $1`, [id]);
  return rows[0] && mapRun(rows[0]);
}

/** Locks a run unless another transaction holds it (a second leader works on it right now). */
export async function lockRun(db: Queryable, s: string, id: number, where = 'true'): Promise<ScheduleRun | undefined> {
  const { rows } = await db.query<ScheduleRunRow>(
    `select ${RUN_COLUMNS} from ${s}.schedule_runs r where r.id = $1 and (${where}) for update skip locked`,
    [id],
  );
  return rows[0] && mapRun(rows[0]);
}

/** The state of a run's job, locked (the promoter skips locked rows, so it cannot start meanwhile). */
export async function lockJobState(db: Queryable, s: string, jobId: number): Promise<string | undefined> {
  const { rows } = await db.query<{ state: JobState }>(`select state from ${s}.jobs where id = $1 for update`, [jobId]);
  return rows[0]?.state;
}

/** Keeps a run's scheduled job from being promoted until released. */
export async function holdJob(db: Queryable, s: string, jobId: number): Promise<void> {
  await db.query(`update ${s}.jobs set run_at = $2, updated_at = now() where id = $1 and state = ${sqlLit(JobState.scheduled)}`, [
    jobId,
    HELD_UNTIL,
  ]);
}

/** Lets a held job run at its occurrence time (due now when that has passed). */
export async function releaseJob(db: Queryable, s: string, jobId: number, runAt: Date): Promise<void> {
  await db.query(
    `update ${s}.jobs set run_at = $2, updated_at = now() where id = $1 and state = ${sqlLit(JobState.scheduled)} and run_at = $3`,
    [jobId, runAt, HELD_UNTIL],
  );
}

/** Merges `details` into the run's details (shallow). */
export async function setRun(
  db: Queryable,
  s: string,
  id: number,
  set: { status?: RunStatus; gatePassed?: Date; completed?: Date; handled?: Date; details?: Record<string, unknown> },
): Promise<void> {
  await db.query(
    `update ${s}.schedule_runs set status = coalesce($2, status), gate_passed_at = coalesce($3, gate_passed_at),
            completed_at = coalesce($4, completed_at), handled_at = coalesce($5, handled_at), details = details || $6::jsonb
      where id = $1`,
    [id, set.status ?? null, set.gatePassed ?? null, set.completed ?? null, set.handled ?? null, JSON.stringify(set.details ?? {})],
  );
}

/** Cancels the job of a run (a running attempt's signal fires in its worker). */
export async function cancelRunWork(tx: Queryable, host: ScheduleHost, run: ScheduleRun): Promise<boolean> {
  if (run.jobId !== undefined) {
    return (await cancelJobs(tx, host.s, [run.jobId], host.cancelChannel)).length > 0;
  }
  if (run.dagRunId !== undefined) {
    try {
      await host.cancelDag(run.dagRunId);
      return true;
    } catch {
      return false; // already finished
    }
  }
  return false;
}

/** A run that will not start: its job is cancelled and it needs no finish actions. */
export async function skipRun(
  tx: Queryable,
  host: ScheduleHost,
  run: ScheduleRun,
  now: Date,
  details: Record<string, unknown>,
): Promise<void> {
  await cancelRunWork(tx, host, run);
  await setRun(tx, host.s, run.id, { status: RunStatus.skipped, completed: now, handled: now, details });
}
