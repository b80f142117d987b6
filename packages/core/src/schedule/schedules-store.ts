/** Schedule rows and their runs; one function per query, validated input only (api.ts parses first). */
import { NotFoundError, fromPgError } from '../db/errors.js';
import type { Queryable } from '../db/pool.js';
import { cancelJobs } from '../queue/cancel.js';
import type { ScheduleHost } from './host.js';
import {
  RUN_COLUMNS,
  SCHEDULE_COLUMNS,
  mapRun,
  mapSchedule,
  type Schedule,
  type ScheduleRun,
  type ScheduleRow,
  type ScheduleRunRow,
} from './rows.js';
import { sqlList, sqlLit } from '../model/sql.js';
import { JobState, RunPending, type RunStatus } from '../model/states.js';

export interface ScheduleValues {
  name: string;
  description: string | null;
  cron: string;
  timezone: string;
  job: Record<string, unknown> | null;
  dag: Record<string, unknown> | null;
  paused: boolean;
  constraintId: number | null;
}

/** A schedule by id (number) or name (string). */
export type ScheduleRef = number | string;

const refWhere = (ref: ScheduleRef) => (typeof ref === 'number' ? 's.id = $1' : 's.name = $1');

export async function insertScheduleRow(db: Queryable, s: string, v: ScheduleValues): Promise<Schedule> {
  try {
    const { rows } = await db.query<ScheduleRow>(
      `insert into ${s}.schedules as s (name, description, cron_expression, timezone, job_template, dag_template, paused, constraint_id)
       values ($1, $2, $3, $4, $5, $6, $7, $8) returning ${SCHEDULE_COLUMNS}`,
      [v.name, v.description, v.cron, v.timezone, v.job && JSON.stringify(v.job), v.dag && JSON.stringify(v.dag), v.paused, v.constraintId],
    );
    return mapSchedule(rows[0]);
  } catch (err) {
    throw fromPgError(err, 'schedule');
  }
}

export async function updateScheduleRow(db: Queryable, s: string, id: number, v: ScheduleValues): Promise<Schedule> {
  const { rows } = await db.query<ScheduleRow>(
    `update ${s}.schedules as s set description = $2, cron_expression = $3, timezone = $4, job_template = $5, dag_template = $6,
            paused = $7, constraint_id = $8, updated_at = now()
      where s.id = $1 returning ${SCHEDULE_COLUMNS}`,
    [id, v.description, v.cron, v.timezone, v.job && JSON.stringify(v.job), v.dag && JSON.stringify(v.dag), v.paused, v.constraintId],
  );
  if (!rows.length) throw new NotFoundError('schedule', id);
  return mapSchedule(rows[0]);
}

export async function findScheduleRow(db: Queryable, s: string, ref: ScheduleRef, lock = false): Promise<Schedule> {
  const { rows } = await db.query<ScheduleRow>(
    `select ${SCHEDULE_COLUMNS} from ${s}.schedules s where ${refWhere(ref)} ${lock ? 'for update' : ''}`,
    [ref],
  );
  if (!rows.length) throw new NotFoundError('schedule', ref);
  return mapSchedule(rows[0]);
}

export async function listScheduleRows(db: Queryable, s: string, paused?: boolean): Promise<Schedule[]> {
  const { rows } = await db.query<ScheduleRow>(
    `select ${SCHEDULE_COLUMNS} from ${s}.schedules s where $1::boolean is null or s.paused = $1 order by s.name`,
    [paused ?? null],
  );
  return rows.map(mapSchedule);
}

/** Pausing keeps the cursor; resuming moves it to now, so runs that fell in the pause are not owed. */
export async function setPausedRow(db: Queryable, s: string, id: number, paused: boolean): Promise<void> {
  await db.query(
    `update ${s}.schedules set paused = $2, updated_at = now(),
            materialised_until = case when $2 then materialised_until else greatest(materialised_until, now()) end
      where id = $1`,
    [id, paused],
  );
}

/**
 * Removes a schedule's runs that have not started and lie in the future, cancelling their
 * scheduled jobs, and moves its cursor back to now: the next pass materialises them afresh
 * under the new cron, template or constraint (or not at all when paused).
 */
export async function resetFutureRuns(tx: Queryable, host: ScheduleHost, scheduleIds: number[]): Promise<number> {
  const s = host.s;
  const { rows } = await tx.query(
    `delete from ${s}.schedule_runs r
      where r.schedule_id = any($1::bigint[]) and r.status in (${sqlList(RunPending)}) and r.started_at is null
        and r.scheduled_at > now()
        and (r.job_id is null and r.dag_run_id is null
             or exists (select 1 from ${s}.jobs j where j.id = r.job_id and j.state = ${sqlLit(JobState.scheduled)}))
      returning r.job_id`,
    [scheduleIds],
  );
  const jobIds = rows.map((r) => r.job_id).filter((id): id is number => id !== null);
  if (jobIds.length) await cancelJobs(tx, s, jobIds, host.cancelChannel);
  await tx.query(`update ${s}.schedules set materialised_until = least(materialised_until, now()) where id = any($1::bigint[])`, [
    scheduleIds,
  ]);
  return rows.length;
}

/** Deletes the schedule (runs, bindings and violations go with it) after cancelling its jobs that have not started. */
export async function deleteScheduleRow(tx: Queryable, host: ScheduleHost, id: number): Promise<void> {
  const s = host.s;
  const { rows } = await tx.query(
    `select r.job_id from ${s}.schedule_runs r join ${s}.jobs j on j.id = r.job_id
      where r.schedule_id = $1 and j.state = ${sqlLit(JobState.scheduled)}`,
    [id],
  );
  if (rows.length)
    await cancelJobs(
      tx,
      s,
      rows.map((r) => r.job_id),
      host.cancelChannel,
    );
  await tx.query(`delete from ${s}.schedules where id = $1`, [id]);
}

export interface RunQuery {
  status?: RunStatus;
  before?: Date;
  limit: number;
}

/** Newest first; keyset by scheduled_at. */
export async function listRunRows(db: Queryable, s: string, scheduleId: number, q: RunQuery): Promise<ScheduleRun[]> {
  const { rows } = await db.query<ScheduleRunRow>(
    `select ${RUN_COLUMNS} from ${s}.schedule_runs r
      where r.schedule_id = $1 and ($2::text is null or r.status = $2) and ($3::timestamptz is null or r.scheduled_at < $3)
      order by r.scheduled_at desc limit $4`,
    [scheduleId, q.status ?? null, q.before ?? null, q.limit],
  );
  return rows.map(mapRun);
}

/** Tells the scheduler leader to rebuild its index; delivered at commit. */
export async function notifyScheduleChange(db: Queryable, channel: string, what: string): Promise<void> {
  await db.query('select pg_notify($1, $2)', [channel, what]);
}
