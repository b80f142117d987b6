/**
 * Following runs: statuses copied from their jobs / DAG runs (one statement a pass), and the
 * time limits — max_expected_run_time reports a violation, max_allowed_run_time cancels the
 * run's job (its handler's signal fires) and reports one that fires on_timeout actions.
 */
import { withTransaction } from '../db/pool.js';
import type { TickContext } from './context.js';
import { cancelRunWork, lockRun, setRun } from './run-ops.js';
import { insertViolation } from './violations.js';
import { sqlList, sqlLit } from '../model/sql.js';
import { DagRunState, DagRunUnsuccessful, JobState, JobUnsuccessful, RunOpen, RunStatus, RunSyncedFinished } from '../model/states.js';

/**
 * Open runs that are due take their status from their work: a job that started (running,
 * waiting for a retry, or available again for one) makes the run `running`; completed →
 * succeeded; failed/cancelled likewise. A job removed by retention before the scheduler saw it
 * finish ends the run as cancelled.
 */
// `src` is the job's state or the DAG run's: both vocabularies, and the run status takes the
// unsuccessful value as is (the names are the same in all three: failed, cancelled).
const SRC_SUCCEEDED = [JobState.completed, DagRunState.succeeded];
const SRC_UNSUCCESSFUL = [...new Set([...JobUnsuccessful, ...DagRunUnsuccessful])];
const SRC_STARTED = [JobState.running, JobState.retryable];

const syncSql = (s: string) => `
  with open as (
    select r.id, r.status as old_status, r.started_at as old_started,
           coalesce(j.state, d.state) as src, coalesce(j.started_at, d.created_at) as src_started,
           coalesce(j.completed_at, d.finished_at) as src_done,
           (r.job_id is not null and j.id is null) or (r.dag_run_id is not null and d.id is null) as vanished
      from ${s}.schedule_runs r
      left join ${s}.jobs j on j.id = r.job_id
      left join ${s}.dag_runs d on d.id = r.dag_run_id
     where r.status in (${sqlList(RunOpen)}) and r.scheduled_at <= $1
       and (r.job_id is not null or r.dag_run_id is not null)
     for update of r skip locked
  ), m as (
    select o.*, case
             when o.vanished then ${sqlLit(RunStatus.cancelled)}
             when o.src in (${sqlList(SRC_SUCCEEDED)}) then ${sqlLit(RunStatus.succeeded)}
             when o.src in (${sqlList(SRC_UNSUCCESSFUL)}) then o.src
             when o.src in (${sqlList(SRC_STARTED)}) or o.src_started is not null then ${sqlLit(RunStatus.running)}
             else o.old_status end as new_status
      from open o
  )
  update ${s}.schedule_runs r
     set status = m.new_status,
         started_at = coalesce(r.started_at, m.src_started),
         completed_at = case when m.new_status in (${sqlList(RunSyncedFinished)}) then coalesce(m.src_done, $1) end
    from m
   where r.id = m.id and (m.new_status <> m.old_status or (m.old_started is null and m.src_started is not null))
  returning r.id, r.scheduled_at, r.started_at, m.old_started, r.status`;

export async function syncRuns(ctx: TickContext): Promise<void> {
  const { host, now } = ctx;
  const { rows } = await host.pool.query(syncSql(host.s), [now]);
  for (const r of rows) {
    if (r.old_started === null && r.started_at !== null) {
      ctx.stats.started(Math.max(0, r.started_at.getTime() - r.scheduled_at.getTime()), ctx.o.lateAfterMs);
    }
  }
}

export async function enforceRunTimes(ctx: TickContext): Promise<void> {
  const { host, now, index } = ctx;
  const limited = [...index.values()].filter(
    (sc) => sc.constraint?.maxExpectedRunTimeMs !== undefined || sc.constraint?.maxAllowedRunTimeMs !== undefined,
  );
  if (!limited.length) return;
  const { rows } = await host.pool.query(
    `select id, schedule_id, started_at, expected_exceeded_at from ${host.s}.schedule_runs
      where status = ${sqlLit(RunStatus.running)} and scheduled_at <= $1 and started_at is not null and schedule_id = any($2::bigint[])`,
    [now, limited.map((sc) => sc.id)],
  );
  for (const r of rows) {
    const sc = index.get(r.schedule_id);
    const c = sc?.constraint;
    if (!sc || !c) continue; // only schedules with limits were asked for
    ctx.stats.add('constraintsChecked');
    const elapsed = now.getTime() - r.started_at.getTime();
    const expected = c.maxExpectedRunTimeMs !== undefined && r.expected_exceeded_at === null && elapsed > c.maxExpectedRunTimeMs;
    const allowed = c.maxAllowedRunTimeMs !== undefined && elapsed > c.maxAllowedRunTimeMs;
    if (!expected && !allowed) continue;
    await withTransaction(host.pool, async (tx) => {
      const run = await lockRun(tx, host.s, r.id, `status = ${sqlLit(RunStatus.running)}`);
      if (!run) return;
      if (expected) {
        await tx.query(`update ${host.s}.schedule_runs set expected_exceeded_at = $2 where id = $1`, [run.id, now]);
        const added = await insertViolation(tx, host.s, {
          runId: run.id,
          scheduleId: sc.id,
          constraintId: c.id,
          type: 'max_expected_run_time',
          attempt: run.attempt,
          occurredAt: now,
          actionTaken: 'reported',
          details: { elapsedMs: elapsed, maxExpectedRunTimeMs: c.maxExpectedRunTimeMs },
        });
        if (added) ctx.stats.add('violations');
      }
      if (allowed) {
        // The job may have finished a moment ago: then there is nothing to cancel and the next
        // sync records its real outcome.
        if (!(await cancelRunWork(tx, host, run))) return;
        await setRun(tx, host.s, run.id, {
          status: RunStatus.timedOut,
          completed: now,
          details: { timedOut: { elapsedMs: elapsed, maxAllowedRunTimeMs: c.maxAllowedRunTimeMs } },
        });
        ctx.stats.add('cancelledRuns');
        const added = await insertViolation(tx, host.s, {
          runId: run.id,
          scheduleId: sc.id,
          constraintId: c.id,
          type: 'max_allowed_run_time',
          attempt: run.attempt,
          occurredAt: now,
          actionTaken: 'cancelled',
          details: { elapsedMs: elapsed, maxAllowedRunTimeMs: c.maxAllowedRunTimeMs },
        });
        if (added) ctx.stats.add('violations');
      }
    });
  }
}
