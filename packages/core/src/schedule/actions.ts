/**
 * Running actions. Everything an action changes in the database happens in the caller's
 * transaction (which also marks the run or violation handled), so a scheduler that dies midway
 * leaves it for the next leader to redo whole: retry and kick_off_job jobs carry idempotency
 * keys, kills and skips are state changes. Webhooks leave the database, so they are delivered
 * at least once (receivers dedupe on X-Jobline-Delivery).
 */
import type { Queryable } from '../db/pool.js';
import type { JobSpec } from '../schemas.js';
import { runJobKey, type TickContext } from './context.js';
import { runPayload, type WebhookEvent } from './payload.js';
import {
  RUN_COLUMNS,
  mapRun,
  type ScheduleActionBinding,
  type ScheduleRun,
  type Violation,
  type ScheduleRunRow,
  type ActionRow,
} from './rows.js';
import { cancelRunWork, setRun } from './run-ops.js';
import type { IndexedSchedule } from './schedule-index.js';
import { ActionConfigSchemas, type ActionTrigger, type ResolvedWebhookConfig } from './schema.js';
import { sendWebhook } from './webhook.js';
import { sqlList, sqlLit } from '../model/sql.js';
import { DagRunState, JobInFlight, JobState, RunOpen, RunPending, RunRetryable, RunStatus } from '../model/states.js';

export interface ActionOutcome {
  action: string;
  type: string;
  ok: boolean;
  /** Webhooks: the HTTP status of the last attempt. */
  status?: number;
  attempts?: number;
  jobId?: number;
  dagRunId?: number;
  runIds?: number[];
  error?: string;
}

export interface ActionInvocation {
  tx: Queryable;
  ctx: TickContext;
  sc: IndexedSchedule;
  run: ScheduleRun;
  trigger: ActionTrigger;
  violation?: Violation;
}

const EVENT: Record<ActionTrigger, WebhookEvent> = {
  on_success: 'schedule.run_succeeded',
  on_failure: 'schedule.run_failed',
  on_violation: 'schedule.violation',
  on_timeout: 'schedule.timeout',
};

/** The bindings that fire for this trigger (on_violation ones may be limited to one constraint). */
export function bindingsFor(sc: IndexedSchedule, trigger: ActionTrigger, constraintId?: number): ScheduleActionBinding[] {
  return sc.bindings.filter((b) => b.trigger === trigger && (b.constraintId === undefined || b.constraintId === constraintId));
}

/** Runs the bindings in order: webhooks first (no row locks are held while they wait), then the rest. */
export async function runActions(inv: ActionInvocation, bindings: ScheduleActionBinding[]): Promise<ActionOutcome[]> {
  if (!bindings.length) return [];
  const { rows } = await inv.tx.query<Omit<ActionRow, 'created_at' | 'updated_at'>>(
    `select id, name, action_type, config from ${inv.ctx.host.s}.actions where id = any($1::bigint[])`,
    [bindings.map((b) => b.actionId)],
  );
  const byId = new Map(rows.map((r) => [r.id as number, r]));
  const ordered = [...bindings].sort((a, b) => Number(a.type !== 'webhook') - Number(b.type !== 'webhook'));
  const out: ActionOutcome[] = [];
  for (const b of ordered) {
    const row = byId.get(b.actionId);
    if (!row) continue; // deleted since the index was built
    let outcome: ActionOutcome;
    try {
      outcome = await runOne(inv, row.name, row.action_type, row.config);
    } catch (err) {
      outcome = { action: row.name, type: row.action_type, ok: false, error: (err as Error).message };
    }
    inv.ctx.stats.add('actionsFired');
    out.push(outcome);
  }
  return out;
}

async function runOne(inv: ActionInvocation, name: string, type: string, raw: unknown): Promise<ActionOutcome> {
  const base = { action: name, type };
  switch (type) {
    case 'webhook': {
      const cfg = ActionConfigSchemas.webhook.parse(raw) as ResolvedWebhookConfig;
      const deliveryId = `${inv.violation ? `violation-${inv.violation.id}` : `run-${inv.run.id}-${inv.run.attempt}-${inv.trigger}`}-${name}`;
      const body = runPayload(EVENT[inv.trigger], inv.sc, inv.run, {
        violation: inv.violation,
        action: name,
        deliveryId,
        now: inv.ctx.now,
      });
      const r = await sendWebhook(cfg, body, deliveryId);
      if (!r.ok) inv.ctx.stats.add('webhookFailures');
      return { ...base, ok: r.ok, status: r.status, attempts: r.attempts, error: r.error };
    }
    case 'retry':
      return { ...base, ...(await retry(inv, ActionConfigSchemas.retry.parse(raw))) };
    case 'kick_off_job':
      return { ...base, ...(await kickOff(inv, name, ActionConfigSchemas.kick_off_job.parse(raw))) };
    case 'kill_all_instances':
    case 'kill_latest_instance': {
      const cfg = ActionConfigSchemas.kill_all_instances.parse(raw);
      return { ...base, ...(await kill(inv, name, cfg.schedule, type === 'kill_latest_instance')) };
    }
    case 'skip_next_instance':
      return { ...base, ...(await skipNext(inv, name, ActionConfigSchemas.skip_next_instance.parse(raw).schedule)) };
    default:
      return { ...base, ok: false, error: `unknown action type ${type}` };
  }
}

type Result = Omit<ActionOutcome, 'action' | 'type'>;

/** A new job (or DAG run) for the same occurrence, with the same input: the run's next attempt. */
async function retry(inv: ActionInvocation, cfg: { maxRetries: number; delayMs: number }): Promise<Result> {
  const { tx, ctx, run, sc } = inv;
  const s = ctx.host.s;
  if (!(RunRetryable as readonly string[]).includes(run.status))
    return { ok: false, error: `run is ${run.status}; only finished runs are retried` };
  if (run.attempt - 1 >= cfg.maxRetries) return { ok: false, error: `retry limit reached (${cfg.maxRetries})` };
  const attempt = run.attempt + 1;
  let jobId: number | undefined;
  let dagRunId: number | undefined;
  if (run.dagRunId !== undefined || sc.dag) {
    dagRunId = (await ctx.host.submitDag({ ...(sc.dag as object), idempotencyKey: runJobKey(run.id, attempt) }, tx)).id;
  } else {
    const { rows } = await tx.query(
      `select queue, name, input, priority, max_attempts, timeout_ms, definition from ${s}.jobs where id = $1`,
      [run.jobId],
    );
    const j = rows[0];
    // Same input as the failed job; when retention already removed it, the template's.
    const spec: JobSpec = j
      ? {
          queue: j.queue,
          name: j.name,
          input: j.input ?? undefined,
          priority: j.priority,
          maxAttempts: j.max_attempts,
          timeoutMs: j.timeout_ms,
          definition: j.definition ?? undefined,
        }
      : ({ ...(sc.job as object) } as JobSpec);
    const runAt = cfg.delayMs ? new Date(Date.now() + cfg.delayMs) : undefined;
    const [r] = await ctx.host.insertJobs([{ ...spec, runAt, idempotencyKey: runJobKey(run.id, attempt) }], tx);
    jobId = r.job.id;
  }
  await tx.query(
    `update ${s}.schedule_runs set attempt = $2, job_id = $3, dag_run_id = $4, status = ${sqlLit(RunStatus.scheduled)}, gate_passed_at = coalesce(gate_passed_at, $5),
            started_at = null, completed_at = null, expected_exceeded_at = null, handled_at = null
      where id = $1`,
    [run.id, attempt, jobId ?? null, dagRunId ?? null, ctx.now],
  );
  return { ok: true, jobId, dagRunId };
}

async function kickOff(inv: ActionInvocation, name: string, cfg: { job: Record<string, unknown>; passContext: boolean }): Promise<Result> {
  const { run, sc, violation, trigger } = inv;
  let input = cfg.job.input;
  if (cfg.passContext && (input === undefined || (typeof input === 'object' && input !== null && !Array.isArray(input)))) {
    const context = {
      id: sc.id,
      name: sc.name,
      runId: run.id,
      scheduledAt: run.scheduledAt,
      trigger,
      status: run.status,
      violationId: violation?.id,
    };
    input = { ...(input as object), schedule: context };
  }
  const key = `schedule-action:${name}:${violation ? `violation-${violation.id}` : `run-${run.id}-${run.attempt}-${trigger}`}`;
  const [r] = await inv.ctx.host.insertJobs([{ ...cfg.job, input, idempotencyKey: key } as JobSpec], inv.tx);
  return { ok: true, jobId: r.job.id };
}

function target(inv: ActionInvocation, name: string | undefined): IndexedSchedule | undefined {
  const sc = name === undefined ? inv.sc : inv.ctx.index.byScheduleName(name);
  if (!sc && !inv.ctx.freshIndex) inv.ctx.stale();
  return sc;
}

/** Instances = runs whose work has started or is claimable now (not future scheduled ones). */
async function kill(inv: ActionInvocation, name: string, scheduleName: string | undefined, latestOnly: boolean): Promise<Result> {
  const { tx, ctx } = inv;
  const sc = target(inv, scheduleName);
  if (!sc) return { ok: false, error: `no schedule named "${scheduleName}"` };
  const { rows } = await tx.query<ScheduleRunRow>(
    `select ${RUN_COLUMNS} from ${ctx.host.s}.schedule_runs r
       left join ${ctx.host.s}.jobs j on j.id = r.job_id left join ${ctx.host.s}.dag_runs d on d.id = r.dag_run_id
      where r.schedule_id = $1 and r.status in (${sqlList(RunOpen)})
        and (j.state in (${sqlList(JobInFlight)}) or d.state = ${sqlLit(DagRunState.running)})
      order by r.scheduled_at desc ${latestOnly ? 'limit 1' : ''}
      for update of r`,
    [sc.id],
  );
  const killed: number[] = [];
  for (const run of rows.map(mapRun)) {
    if (!(await cancelRunWork(tx, ctx.host, run))) continue;
    await setRun(tx, ctx.host.s, run.id, {
      status: RunStatus.cancelled,
      completed: ctx.now,
      handled: ctx.now,
      details: { killedBy: name },
    });
    killed.push(run.id);
  }
  ctx.stats.add('cancelledRuns', killed.length);
  return { ok: true, runIds: killed };
}

/** Skips the schedule's next run that has not started; with none materialised yet, the next one to be. */
async function skipNext(inv: ActionInvocation, name: string, scheduleName: string | undefined): Promise<Result> {
  const { tx, ctx } = inv;
  const s = ctx.host.s;
  const sc = target(inv, scheduleName);
  if (!sc) return { ok: false, error: `no schedule named "${scheduleName}"` };
  const { rows } = await tx.query<ScheduleRunRow>(
    `select ${RUN_COLUMNS} from ${s}.schedule_runs r left join ${s}.jobs j on j.id = r.job_id
      where r.schedule_id = $1 and r.status in (${sqlList(RunPending)}) and r.started_at is null
        and ((r.job_id is not null and j.state = ${sqlLit(JobState.scheduled)}) or (r.job_id is null and r.dag_run_id is null))
        and r.id <> $2
      order by r.scheduled_at limit 1
      for update of r skip locked`,
    [sc.id, inv.run.id],
  );
  if (!rows.length) {
    await tx.query(`update ${s}.schedules set skip_next = skip_next + 1 where id = $1`, [sc.id]);
    return { ok: true, runIds: [] };
  }
  const next = mapRun(rows[0]);
  await cancelRunWork(tx, ctx.host, next);
  await setRun(tx, s, next.id, {
    status: RunStatus.skipped,
    completed: ctx.now,
    handled: ctx.now,
    details: { skipped: { reason: 'skip_next_instance', action: name } },
  });
  ctx.stats.add('skippedRuns');
  return { ok: true, runIds: [next.id] };
}
