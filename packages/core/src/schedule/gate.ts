/**
 * The start check of gated runs (schedules with max_concurrent_runs, require_previous_success or
 * a pre-run hook, and DAG schedules). It runs from `gateLeadMs` before a run's time:
 *
 * - the run's job row is locked, so the promoter (which skips locked rows) cannot start it while
 *   the check runs; a job that already left `scheduled` (no scheduler was there in time) is
 *   let be and marked `ungated`;
 * - a constraint that fails before the run is due holds the job (HELD_UNTIL) and is checked
 *   again next pass — the final word is spoken at the run's time;
 * - at the run's time a failed constraint skips the run, or delays it (max_concurrent_runs with
 *   policy `delay`: held until a slot frees), and records a violation; require_previous_success
 *   waits (held) while the previous run has not finished;
 * - a pre-run hook is called outside any transaction with the job held, then the run passes (or
 *   is skipped when the hook is `required` and failed);
 * - passing releases a held job to its own time, or submits the DAG of a DAG run.
 */
import { withTransaction, type Queryable } from '../db/pool.js';
import { JoblineError } from '../db/errors.js';
import { runJobKey, type TickContext } from './context.js';
import { runPayload } from './payload.js';
import type { Constraint, ScheduleRun } from './rows.js';
import { holdJob, lockJobState, lockRun, releaseJob, setRun, skipRun } from './run-ops.js';
import type { IndexedSchedule } from './schedule-index.js';
import type { ViolationType } from './schema.js';
import type { JobRow } from '../model/job.js';
import { sqlList, sqlLit } from '../model/sql.js';
import {
  DagRunState,
  DagRunUnsuccessful,
  JobFinished,
  JobInFlight,
  JobState,
  JobUnsuccessful,
  RunEnded,
  RunNotRun,
  RunOpen,
  RunPending,
  RunStatus,
} from '../model/states.js';
import { insertViolation } from './violations.js';
import { sendWebhook } from './webhook.js';

interface Verdict {
  type: ViolationType;
  details: Record<string, unknown>;
}
/** Not decidable yet (the previous run has not finished): hold and check again next pass. */
const WAIT = 'wait' as const;

const PENDING = `gate_passed_at is null and status in (${sqlList(RunPending)})`;

export async function gate(ctx: TickContext): Promise<void> {
  const { host, now, o } = ctx;
  const { rows } = await host.pool.query<{ id: number }>(
    `select id from ${host.s}.schedule_runs where ${PENDING} and scheduled_at <= $1 order by scheduled_at, id limit 500`,
    [new Date(now.getTime() + o.gateLeadMs)],
  );
  for (const r of rows) {
    const hook = await withTransaction(host.pool, (tx) => checkRun(ctx, tx, r.id));
    if (hook) await callPreRunHook(ctx, hook.sc, hook.run);
  }
}

/** Returns the run when its pre-run hook must be called (outside this transaction). */
async function checkRun(ctx: TickContext, tx: Queryable, runId: number): Promise<{ sc: IndexedSchedule; run: ScheduleRun } | undefined> {
  const { host, now } = ctx;
  const run = await lockRun(tx, host.s, runId, PENDING);
  if (!run) return;
  const sc = ctx.index.get(run.scheduleId);
  if (!sc) {
    ctx.stale();
    return;
  }
  const due = run.scheduledAt.getTime() <= now.getTime();
  if (run.jobId !== undefined) {
    const state = await lockJobState(tx, host.s, run.jobId);
    if (state !== JobState.scheduled) {
      await setRun(tx, host.s, run.id, {
        gatePassed: now,
        details: { ungated: `the job was already ${state ?? 'gone'} when the scheduler checked it` },
      });
      return;
    }
  } else if (!due) {
    return; // DAG runs are checked and submitted at their time
  }
  const verdict = await evaluate(tx, ctx, sc, run);
  if (sc.constraint) ctx.stats.add('constraintsChecked');
  if (verdict === WAIT) {
    if (run.jobId !== undefined) await holdJob(tx, host.s, run.jobId);
    return;
  }
  if (verdict) {
    if (!due) {
      if (run.jobId !== undefined) await holdJob(tx, host.s, run.jobId);
      return;
    }
    const c = sc.constraint!;
    const delay = verdict.type === 'max_concurrent_runs' && c.concurrencyPolicy === 'delay';
    if (delay) {
      if (run.jobId !== undefined) await holdJob(tx, host.s, run.jobId);
      if (run.status !== RunStatus.delayed) {
        await setRun(tx, host.s, run.id, { status: RunStatus.delayed, details: { delayed: verdict.details } });
        ctx.stats.add('delayedRuns');
      }
    } else {
      await skipRun(tx, host, run, now, { skipped: { reason: verdict.type, ...verdict.details } });
      ctx.stats.add('skippedRuns');
    }
    const recorded = await insertViolation(tx, host.s, {
      runId: run.id,
      scheduleId: sc.id,
      constraintId: c.id,
      type: verdict.type,
      attempt: run.attempt,
      occurredAt: now,
      actionTaken: delay ? 'delayed' : 'skipped',
      details: verdict.details,
    });
    if (recorded) ctx.stats.add('violations');
    return;
  }
  if (sc.constraint?.preRunHook) {
    if (run.jobId !== undefined) await holdJob(tx, host.s, run.jobId);
    return { sc, run };
  }
  await pass(ctx, tx, sc, run, {});
}

async function pass(
  ctx: TickContext,
  tx: Queryable,
  sc: IndexedSchedule,
  run: ScheduleRun,
  details: Record<string, unknown>,
): Promise<void> {
  const { host, now } = ctx;
  if (run.jobId !== undefined) {
    await releaseJob(tx, host.s, run.jobId, run.scheduledAt);
    await setRun(tx, host.s, run.id, { status: RunStatus.scheduled, gatePassed: now, details });
    return;
  }
  // A DAG run: submitted now, in this transaction. A DAG that cannot be submitted (its
  // definition was removed, …) fails the run rather than the scheduler.
  await tx.query('savepoint submit_dag');
  try {
    const dag = await host.submitDag({ ...(sc.dag as object), idempotencyKey: runJobKey(run.id, run.attempt) }, tx);
    await tx.query('release savepoint submit_dag');
    await tx.query(`update ${host.s}.schedule_runs set dag_run_id = $2 where id = $1`, [run.id, dag.id]);
    await setRun(tx, host.s, run.id, { status: RunStatus.scheduled, gatePassed: now, details });
  } catch (err) {
    await tx.query('rollback to savepoint submit_dag');
    if (!(err instanceof JoblineError)) throw err;
    await setRun(tx, host.s, run.id, {
      status: RunStatus.failed,
      gatePassed: now,
      completed: now,
      details: { ...details, error: err.message },
    });
  }
}

async function callPreRunHook(ctx: TickContext, sc: IndexedSchedule, run: ScheduleRun): Promise<void> {
  const { host, now } = ctx;
  const hook = sc.constraint!.preRunHook!;
  const deliveryId = `pre-${run.id}-${run.attempt}`;
  const res = await sendWebhook(hook, runPayload('schedule.pre_run', sc, run, { deliveryId, now }), deliveryId);
  if (!res.ok) ctx.stats.add('webhookFailures');
  await withTransaction(host.pool, async (tx) => {
    const again = await lockRun(tx, host.s, run.id, `${PENDING} and attempt = ${Number(run.attempt)}`);
    if (!again) return;
    if (again.jobId !== undefined && (await lockJobState(tx, host.s, again.jobId)) !== JobState.scheduled) return;
    const outcome = { ok: res.ok, status: res.status, attempts: res.attempts, error: res.error };
    if (res.ok || !hook.required) {
      await pass(ctx, tx, sc, again, { preRunHook: outcome });
      return;
    }
    await skipRun(tx, host, again, now, { skipped: { reason: 'pre_run_hook' }, preRunHook: outcome });
    ctx.stats.add('skippedRuns');
    if (
      await insertViolation(tx, host.s, {
        runId: again.id,
        scheduleId: sc.id,
        constraintId: sc.constraint!.id,
        type: 'pre_run_hook',
        attempt: again.attempt,
        occurredAt: now,
        actionTaken: 'skipped',
        details: { hook: hook.url, ...outcome },
      })
    ) {
      ctx.stats.add('violations');
    }
  });
}

// ---- constraint evaluation ----------------------------------------------------------------

async function evaluate(
  tx: Queryable,
  ctx: TickContext,
  sc: IndexedSchedule,
  run: ScheduleRun,
): Promise<Verdict | typeof WAIT | undefined> {
  const c = sc.constraint;
  if (!c) return;
  if (c.requirePreviousSuccess !== undefined) {
    const v = await previousSuccess(tx, ctx, sc, run, c);
    if (v) return v;
  }
  if (c.maxConcurrentRuns !== undefined) {
    const inFlight = await countInFlight(tx, ctx.host.s, sc.id, run);
    if (inFlight >= c.maxConcurrentRuns) {
      return { type: 'max_concurrent_runs', details: { inFlight, maxConcurrentRuns: c.maxConcurrentRuns, policy: c.concurrencyPolicy } };
    }
  }
  return;
}

/**
 * Runs of the schedule in flight: their job is available, running or waiting for a retry, or
 * it passed its check and is due no later than this run; DAG runs while running. Earlier runs
 * still delayed count too, so delayed runs start in occurrence order (a later run never takes
 * a slot that frees up ahead of an earlier one).
 */
async function countInFlight(tx: Queryable, s: string, scheduleId: number, run: ScheduleRun): Promise<number> {
  const { rows } = await tx.query<{ n: number }>(
    `select count(*)::int as n from ${s}.schedule_runs r
       left join ${s}.jobs j on j.id = r.job_id
       left join ${s}.dag_runs d on d.id = r.dag_run_id
      where r.schedule_id = $1 and r.id <> $2 and r.status in (${sqlList(RunOpen)})
        and (j.state in (${sqlList(JobInFlight)})
             or (j.state = ${sqlLit(JobState.scheduled)} and r.gate_passed_at is not null and r.scheduled_at <= $3)
             or (r.status = ${sqlLit(RunStatus.delayed)} and r.scheduled_at < $3)
             or d.state = ${sqlLit(DagRunState.running)})`,
    [scheduleId, run.id, run.scheduledAt],
  );
  return rows[0].n;
}

const OUTCOME = `case when r.status in (${sqlList(RunEnded)}) then r.status
                      when j.state = ${sqlLit(JobState.completed)} or d.state = ${sqlLit(DagRunState.succeeded)} then ${sqlLit(RunStatus.succeeded)}
                      when j.state in (${sqlList(JobUnsuccessful)}) then j.state
                      when d.state in (${sqlList(DagRunUnsuccessful)}) then d.state
                      else 'unfinished' end`;

/**
 * The previous run meant to execute (skipped and missed ones are passed over) must have
 * succeeded; while it has not finished the decision waits. So one failure stops the chain until
 * a run succeeds again (a retry action, or `trigger()`, which skips the start checks).
 */
async function previousSuccess(
  tx: Queryable,
  ctx: TickContext,
  sc: IndexedSchedule,
  run: ScheduleRun,
  c: Constraint,
): Promise<Verdict | typeof WAIT | undefined> {
  const s = ctx.host.s;
  const rule = c.requirePreviousSuccess!;
  if (typeof rule === 'object' && 'job' in rule) {
    const { rows } = await tx.query<Pick<JobRow, 'id' | 'state'>>(
      `select id, state from ${s}.jobs where queue = $1 and name = $2 and state in (${sqlList(JobFinished)})
        order by completed_at desc nulls last, id desc limit 1`,
      [rule.queue, rule.job],
    );
    if (!rows.length || rows[0].state === JobState.completed) return;
    return {
      type: 'require_previous_success',
      details: { job: rule.job, queue: rule.queue, previousJobId: rows[0].id, previous: rows[0].state },
    };
  }
  const target = rule === true ? sc : ctx.index.byScheduleName(rule.schedule);
  if (!target && !ctx.freshIndex) {
    ctx.stale();
    return WAIT;
  }
  if (!target)
    return {
      type: 'require_previous_success',
      details: { schedule: (rule as { schedule: string }).schedule, previous: 'unknown schedule' },
    };
  const { rows } = await tx.query<{ id: number; outcome: string }>(
    `select r.id, ${OUTCOME} as outcome from ${s}.schedule_runs r
       left join ${s}.jobs j on j.id = r.job_id left join ${s}.dag_runs d on d.id = r.dag_run_id
      where r.schedule_id = $1 and r.scheduled_at < $2 and r.status not in (${sqlList(RunNotRun)})
      order by r.scheduled_at desc limit 1`,
    [target.id, run.scheduledAt],
  );
  if (!rows.length || rows[0].outcome === RunStatus.succeeded) return;
  if (rows[0].outcome === 'unfinished') return WAIT;
  return { type: 'require_previous_success', details: { schedule: target.name, previousRunId: rows[0].id, previous: rows[0].outcome } };
}
