/**
 * After-the-fact work, outbox style: finished runs whose finish actions have not run
 * (`handled_at` null) and violations whose actions have not run. Each row is taken with
 * FOR UPDATE SKIP LOCKED and marked handled *before* its actions run, in the same transaction:
 * a retry action that starts the run's next attempt resets `handled_at` for that attempt, and a
 * scheduler that dies midway rolls everything back for the next leader.
 */
import { withTransaction } from '../db/pool.js';
import { bindingsFor, runActions, type ActionOutcome } from './actions.js';
import type { TickContext } from './context.js';
import { runPayload } from './payload.js';
import { VIOLATION_COLUMNS, mapViolation, type ViolationRow } from './rows.js';
import { getRun, lockRun } from './run-ops.js';
import { ActionTrigger } from './schema.js';
import { sqlList } from '../model/sql.js';
import { RunEnded, RunStatus } from '../model/states.js';
import { sendWebhook } from './webhook.js';

const BATCH = 100;

export async function handleFinishedRuns(ctx: TickContext): Promise<void> {
  const { host } = ctx;
  const { rows } = await host.pool.query<{ id: number }>(
    `select id from ${host.s}.schedule_runs
      where handled_at is null and status in (${sqlList(RunEnded)}) order by id limit $1`,
    [BATCH],
  );
  for (const { id } of rows) {
    await withTransaction(host.pool, async (tx) => {
      const run = await lockRun(tx, host.s, id, `handled_at is null and status in (${sqlList(RunEnded)})`);
      if (!run) return;
      const sc = ctx.index.get(run.scheduleId);
      if (!sc) return ctx.stale(); // created after the index was built: handled next pass
      await tx.query(`update ${host.s}.schedule_runs set handled_at = $2 where id = $1`, [run.id, ctx.now]);
      const details: Record<string, unknown> = {};
      const hook = sc.constraint?.postRunHook;
      if (hook && run.startedAt) {
        const deliveryId = `post-${run.id}-${run.attempt}`;
        const r = await sendWebhook(hook, runPayload('schedule.post_run', sc, run, { deliveryId, now: ctx.now }), deliveryId);
        if (!r.ok) ctx.stats.add('webhookFailures');
        details.postRunHook = { ok: r.ok, status: r.status, attempts: r.attempts, error: r.error };
      }
      // timed_out runs fire on_timeout through their violation; cancelled ones were stopped on purpose.
      const trigger: ActionTrigger | undefined =
        run.status === RunStatus.succeeded
          ? ActionTrigger.onSuccess
          : run.status === RunStatus.failed
            ? ActionTrigger.onFailure
            : undefined;
      if (trigger) {
        const outcomes = await runActions({ tx, ctx, sc, run, trigger }, bindingsFor(sc, trigger));
        if (outcomes.length) details.actions = { [`attempt${run.attempt}`]: outcomes };
      }
      if (Object.keys(details).length) {
        await tx.query(`update ${host.s}.schedule_runs set details = details || $2::jsonb where id = $1`, [
          run.id,
          JSON.stringify(details),
        ]);
      }
    });
  }
}

export async function handleViolations(ctx: TickContext): Promise<void> {
  const { host } = ctx;
  const { rows } = await host.pool.query<{ id: number }>(
    `select id from ${host.s}.constraint_violations where handled_at is null order by id limit $1`,
    [BATCH],
  );
  for (const { id } of rows) {
    await withTransaction(host.pool, async (tx) => {
      const { rows: vs } = await tx.query<ViolationRow>(
        `select ${VIOLATION_COLUMNS} from ${host.s}.constraint_violations v where v.id = $1 and v.handled_at is null for update skip locked`,
        [id],
      );
      if (!vs.length) return;
      const v = mapViolation(vs[0]);
      const sc = ctx.index.get(v.scheduleId);
      if (!sc) return ctx.stale();
      await tx.query(`update ${host.s}.constraint_violations set handled_at = $2 where id = $1`, [v.id, ctx.now]);
      // Not locked here: the actions lock what they change (a kill or retry takes the run row).
      const run = v.runId === undefined ? undefined : await getRun(tx, host.s, v.runId);
      if (!run) return;
      const trigger: ActionTrigger = v.type === 'max_allowed_run_time' ? 'on_timeout' : 'on_violation';
      const outcomes = await runActions({ tx, ctx, sc, run, trigger, violation: v }, bindingsFor(sc, trigger, v.constraintId));
      if (!outcomes.length) return;
      await tx.query(
        `update ${host.s}.constraint_violations set action_taken = action_taken || $2, details = details || $3::jsonb where id = $1`,
        [v.id, outcomes.map((o) => `; ${describe(o)}`).join(''), JSON.stringify({ actions: outcomes })],
      );
    });
  }
}

/** `notify: webhook 200`, `again: retry → job 42`, `stop: kill_all_instances → 2 runs`. */
function describe(o: ActionOutcome): string {
  const what =
    o.status !== undefined
      ? ` ${o.status}`
      : o.jobId !== undefined
        ? ` → job ${o.jobId}`
        : o.dagRunId !== undefined
          ? ` → dag ${o.dagRunId}`
          : o.runIds
            ? ` → ${o.runIds.length} run(s)`
            : '';
  return `${o.action}: ${o.type}${what}${o.ok ? '' : ` failed${o.error ? ` (${o.error})` : ''}`}`;
}
