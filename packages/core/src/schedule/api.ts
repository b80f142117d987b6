/**
 * The library surface: `jl.schedules`, `jl.constraints`, `jl.actions`, and the read functions
 * behind `jl.violations()` / `jl.schedulerStats()`. Every write is parsed by the zod schemas in
 * schema.ts first (errors name the field), happens in one transaction, and NOTIFYs the
 * scheduler so its index follows at once. Secrets in hook and webhook configs are masked on
 * the way out.
 */
import { ConflictError, NotFoundError, ValidationError, type FieldIssue } from '../db/errors.js';
import { withTransaction, type Queryable } from '../db/pool.js';
import { applyDefinitions } from '../definitions/apply.js';
import { DEFAULT_DAG_MAX_EDGES, DEFAULT_DAG_MAX_NODES } from '../dag/spec.js';
import { prepareDag } from '../dag/validate.js';
import { parseOrThrow, serialiseJson, type JobSpec } from '../schemas.js';
import { deleteAction, findAction, insertAction, listActionRows, loadBindings, parseActionConfig, replaceBindings, updateActionRow } from './actions-store.js';
import { constraintValues, deleteConstraint, findConstraint, getConstraintById, insertConstraint, listConstraintRows, updateConstraintRow } from './constraints.js';
import { runJobKey } from './context.js';
import { compileCron, nextOccurrences, validateCron } from './cron.js';
import { schedulesChannel, type ScheduleHost } from './host.js';
import { insertRuns } from './materialise.js';
import type { Action, Constraint, Schedule, ScheduleRun, SchedulerStatsRow, Violation } from './rows.js';
import { getRun } from './run-ops.js';
import { isGated, type IndexedSchedule } from './schedule-index.js';
import {
  ActionSpecSchema,
  ActionTypeSchema,
  ConstraintPatchSchema,
  ConstraintSpecSchema,
  RunFilterSchema,
  SchedulePatchSchema,
  ScheduleSpecSchema,
  ViolationFilterSchema,
  type ActionSpec,
  type ActionType,
  type ConstraintPatch,
  type ConstraintSpec,
  type RunFilter,
  type SchedulePatch,
  type ScheduleSpec,
  type ViolationFilter,
} from './schema.js';
import {
  deleteScheduleRow,
  findScheduleRow,
  insertScheduleRow,
  listScheduleRows,
  listRunRows,
  notifyScheduleChange,
  resetFutureRuns,
  setPausedRow,
  updateScheduleRow,
  type ScheduleRef,
} from './schedules-store.js';
import { listStats } from './stats.js';
import { listViolations } from './violations.js';

const MASK = '********';

/** Masks every `secret` value (webhook and hook configs) in a copy of `v`. */
export function redactSecrets<T>(v: T): T {
  if (Array.isArray(v)) return v.map(redactSecrets) as T;
  if (v && typeof v === 'object' && !(v instanceof Date)) {
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, k === 'secret' && typeof x === 'string' ? MASK : redactSecrets(x)])) as T;
  }
  return v;
}

function prefixed(err: unknown, prefix: string): unknown {
  if (!(err instanceof ValidationError)) return err;
  return new ValidationError(err.issues.map((i): FieldIssue => ({ path: [prefix, i.path].filter(Boolean).join('.'), message: i.message })));
}

/**
 * PostgreSQL cannot store NUL characters or unpaired surrogates (text or jsonb): refused here
 * with the field named, like job inputs, rather than failing in the driver.
 */
function storable(value: unknown, field: string): void {
  if (value !== undefined && value !== null) serialiseJson(value, field, Number.MAX_SAFE_INTEGER);
}

/** The inline constraint of a schedule is stored under this name. */
export const inlineConstraintName = (schedule: string) => `schedule:${schedule}`;

abstract class Base {
  constructor(protected readonly host: ScheduleHost) {}
  protected get s(): string {
    return this.host.s;
  }
  protected notify(db: Queryable, what: string): Promise<void> {
    return notifyScheduleChange(db, schedulesChannel(this.host.schema), what);
  }
}

export class ScheduleApi extends Base {
  /** Creates a schedule. Its first run is the first occurrence after now (nothing is back-filled). */
  async add(spec: ScheduleSpec): Promise<Schedule> {
    const v = parseOrThrow(ScheduleSpecSchema, spec);
    storable(v.description, 'description');
    storable(v.constraint, 'constraint');
    const job = v.job ? await this.checkJob(v.job) : null;
    const dag = v.dag ? checkDag(v.dag) : null;
    const id = await withTransaction(this.host.pool, async (tx) => {
      const constraintId = await this.resolveConstraint(tx, v.name, v.constraint, null);
      const row = await insertScheduleRow(tx, this.s, {
        name: v.name,
        description: v.description ?? null,
        cron: v.cron,
        timezone: v.timezone ?? 'UTC',
        job,
        dag,
        paused: v.paused ?? false,
        constraintId,
      });
      if (v.actions) await replaceBindings(tx, this.s, row.id, v.actions);
      await this.notify(tx, `schedule:${row.id}`);
      return row.id;
    });
    return this.get(id);
  }

  /** Changes a schedule. Runs not started yet are re-planned under the new settings. */
  async update(ref: ScheduleRef, patch: SchedulePatch): Promise<Schedule> {
    const p = parseOrThrow(SchedulePatchSchema, patch);
    storable(p.description, 'description');
    storable(p.constraint, 'constraint');
    const job = p.job ? await this.checkJob(p.job) : undefined;
    const dag = p.dag ? checkDag(p.dag) : undefined;
    const id = await withTransaction(this.host.pool, async (tx) => {
      const cur = await findScheduleRow(tx, this.s, ref, true);
      const cron = p.cron ?? cur.cron;
      const timezone = p.timezone ?? cur.timezone;
      const bad = validateCron(cron, timezone);
      if (bad) throw ValidationError.field(p.cron ? 'cron' : 'timezone', bad);
      await updateScheduleRow(tx, this.s, cur.id, {
        name: cur.name,
        description: p.description === undefined ? cur.description ?? null : p.description,
        cron,
        timezone,
        job: job ?? (dag ? null : cur.job ?? null),
        dag: dag ?? (job ? null : cur.dag ?? null),
        paused: p.paused ?? cur.paused,
        constraintId: await this.resolveConstraint(tx, cur.name, p.constraint, cur.constraintId ?? null),
      });
      if (p.actions) await replaceBindings(tx, this.s, cur.id, p.actions);
      await resetFutureRuns(tx, this.host, [cur.id]);
      await this.notify(tx, `schedule:${cur.id}`);
      return cur.id;
    });
    return this.get(id);
  }

  async get(ref: ScheduleRef): Promise<Schedule> {
    const sc = await findScheduleRow(this.host.pool, this.s, ref);
    return (await this.decorate([sc]))[0];
  }

  async list(filter: { paused?: boolean } = {}): Promise<Schedule[]> {
    return this.decorate(await listScheduleRows(this.host.pool, this.s, filter.paused));
  }

  /** Stops new runs: runs not started yet are removed (their jobs cancelled); running ones finish. */
  async pause(ref: ScheduleRef): Promise<Schedule> {
    return this.setPaused(ref, true);
  }

  /** Runs resume from the next occurrence; occurrences that fell in the pause are not owed. */
  async resume(ref: ScheduleRef): Promise<Schedule> {
    return this.setPaused(ref, false);
  }

  private async setPaused(ref: ScheduleRef, paused: boolean): Promise<Schedule> {
    const id = await withTransaction(this.host.pool, async (tx) => {
      const cur = await findScheduleRow(tx, this.s, ref, true);
      await setPausedRow(tx, this.s, cur.id, paused);
      if (paused) await resetFutureRuns(tx, this.host, [cur.id]);
      await this.notify(tx, `schedule:${cur.id}`);
      return cur.id;
    });
    return this.get(id);
  }

  /** Deletes the schedule with its runs and violations; its jobs that have not started are cancelled. */
  async remove(ref: ScheduleRef): Promise<void> {
    await withTransaction(this.host.pool, async (tx) => {
      const cur = await findScheduleRow(tx, this.s, ref, true);
      await deleteScheduleRow(tx, this.host, cur.id);
      await tx.query(
        `delete from ${this.s}.constraints c where c.name = $1 and not exists (select 1 from ${this.s}.schedules s where s.constraint_id = c.id)`,
        [inlineConstraintName(cur.name)],
      );
      await this.notify(tx, `schedule:${cur.id}`);
    });
  }

  /** The schedule's runs, newest first. */
  async runs(ref: ScheduleRef, filter: RunFilter = {}): Promise<ScheduleRun[]> {
    const f = parseOrThrow(RunFilterSchema, filter);
    const sc = await findScheduleRow(this.host.pool, this.s, ref);
    return listRunRows(this.host.pool, this.s, sc.id, f);
  }

  /** The next `n` occurrences (what the schedule will do, ignoring constraints). */
  async next(ref: ScheduleRef, n = 5): Promise<Date[]> {
    const sc = await findScheduleRow(this.host.pool, this.s, ref);
    return nextOccurrences(compileCron(sc.cron, sc.timezone), new Date(), Math.max(1, Math.min(n, 1000)));
  }

  /**
   * Starts a run now, outside the cron (works while paused too). Start constraints are not
   * checked — this is how a chain stopped by require_previous_success is restarted — but time
   * limits, actions and hooks apply as to any run.
   */
  async trigger(ref: ScheduleRef): Promise<ScheduleRun> {
    const id = await withTransaction(this.host.pool, async (tx) => {
      const row = await findScheduleRow(tx, this.s, ref, true);
      const constraint = row.constraintId === undefined ? undefined : await getConstraintById(tx, this.s, row.constraintId);
      const sc: IndexedSchedule = {
        id: row.id,
        name: row.name,
        cron: compileCron(row.cron, row.timezone),
        job: row.job,
        dag: row.dag,
        paused: row.paused,
        constraint,
        bindings: [],
        gated: isGated(row.dag, constraint),
      };
      const { rows } = await tx.query('select now() as now');
      const [run] = await insertRuns(tx, this.host, sc, [{ scheduledAt: rows[0].now, trigger: 'manual', status: 'scheduled' }], rows[0].now, true);
      if (!run) throw new ConflictError(`schedule "${row.name}" already has a run at this instant; try again`, { schedule: row.name });
      if (sc.dag) {
        const dag = await this.host.submitDag({ ...sc.dag, idempotencyKey: runJobKey(run.id, 1) }, tx);
        await tx.query(`update ${this.s}.schedule_runs set dag_run_id = $2 where id = $1`, [run.id, dag.id]);
      }
      return run.id;
    });
    return (await getRun(this.host.pool, this.s, id))!;
  }

  private async decorate(rows: Schedule[]): Promise<Schedule[]> {
    if (!rows.length) return rows;
    const bindings = await loadBindings(this.host.pool, this.s, rows.map((r) => r.id));
    const constraints = new Map((await listConstraintRows(this.host.pool, this.s)).map((c) => [c.id, c]));
    const now = new Date();
    return rows.map((r) =>
      redactSecrets({
        ...r,
        constraint: r.constraintId === undefined ? undefined : constraints.get(r.constraintId),
        actions: bindings.get(r.id) ?? [],
        nextRunAt: r.paused ? undefined : compileCron(r.cron, r.timezone).cron.nextRun(now) ?? undefined,
      }),
    );
  }

  /** A job template is checked like an enqueue would check it: definition exists, input fits. */
  private async checkJob(job: Record<string, unknown>): Promise<Record<string, unknown>> {
    try {
      storable(job, '');
      serialiseJson(job.input, 'input', this.host.maxInputBytes);
      await applyDefinitions(this.host.pool, this.s, [{ ...job, name: job.name ?? '-' } as JobSpec], true);
    } catch (err) {
      throw prefixed(err, 'job');
    }
    return job;
  }

  /**
   * `undefined` keeps the current constraint, `null` removes it, a name picks a shared one, an
   * object writes the schedule's own inline constraint (`schedule:<name>`).
   */
  private async resolveConstraint(tx: Queryable, schedule: string, c: unknown, current: number | null): Promise<number | null> {
    if (c === undefined) return current;
    if (c === null) return null;
    if (typeof c === 'string') {
      const found = await findConstraint(tx, this.s, c);
      if (!found) throw ValidationError.field('constraint', `no constraint named "${c}"; create it first or give the constraint inline`);
      return found.id;
    }
    const name = inlineConstraintName(schedule);
    const values = constraintValues(c as never);
    const existing = await findConstraint(tx, this.s, name, true);
    const saved = existing ? await updateConstraintRow(tx, this.s, existing.id, values) : await insertConstraint(tx, this.s, name, values);
    if (existing) await resetUsers(tx, this.host, existing.id);
    return saved.id;
  }
}

/** Schedules that use a changed constraint get their not-started runs re-planned. */
async function resetUsers(tx: Queryable, host: ScheduleHost, constraintId: number): Promise<void> {
  const { rows } = await tx.query(`select id from ${host.s}.schedules where constraint_id = $1`, [constraintId]);
  if (rows.length) await resetFutureRuns(tx, host, rows.map((r) => r.id));
}

function checkDag(dag: Record<string, unknown>): Record<string, unknown> {
  try {
    storable(dag, '');
    prepareDag(dag, { maxNodes: DEFAULT_DAG_MAX_NODES, maxEdges: DEFAULT_DAG_MAX_EDGES, maxInputBytes: Number.MAX_SAFE_INTEGER });
  } catch (err) {
    throw prefixed(err, 'dag');
  }
  return dag;
}

export class ConstraintApi extends Base {
  async add(spec: ConstraintSpec): Promise<Constraint> {
    const v = parseOrThrow(ConstraintSpecSchema, spec);
    storable(v, '');
    return withTransaction(this.host.pool, async (tx) => {
      const c = await insertConstraint(tx, this.s, v.name, constraintValues(v));
      await this.notify(tx, `constraint:${c.id}`);
      return redactSecrets(c);
    });
  }

  /** Changes the given fields (null clears one); schedules using it re-plan their runs not started yet. */
  async update(name: string, patch: ConstraintPatch): Promise<Constraint> {
    const p = parseOrThrow(ConstraintPatchSchema, patch);
    storable(p, '');
    return withTransaction(this.host.pool, async (tx) => {
      const cur = await findConstraint(tx, this.s, name, true);
      if (!cur) throw new NotFoundError('constraint', name);
      const c = await updateConstraintRow(tx, this.s, cur.id, constraintValues(p, cur));
      await resetUsers(tx, this.host, cur.id);
      await this.notify(tx, `constraint:${c.id}`);
      return redactSecrets(c);
    });
  }

  async get(name: string): Promise<Constraint> {
    const c = await findConstraint(this.host.pool, this.s, name);
    if (!c) throw new NotFoundError('constraint', name);
    return redactSecrets(c);
  }

  async list(): Promise<Constraint[]> {
    return redactSecrets(await listConstraintRows(this.host.pool, this.s));
  }

  async remove(name: string): Promise<void> {
    await withTransaction(this.host.pool, async (tx) => {
      await deleteConstraint(tx, this.s, name);
      await this.notify(tx, `constraint:${name}`);
    });
  }
}

export class ActionApi extends Base {
  /** Creates an action; its config is checked against the type's schema (`config.url`, …). */
  async add(spec: ActionSpec): Promise<Action> {
    const v = parseOrThrow(ActionSpecSchema, spec);
    const config = parseActionConfig(v.type, v.config);
    storable(config, 'config');
    return withTransaction(this.host.pool, async (tx) => {
      const a = await insertAction(tx, this.s, v.name, v.type, config);
      await this.notify(tx, `action:${a.id}`);
      return redactSecrets(a);
    });
  }

  /** Replaces the type and/or config (the whole config: it is validated as one). */
  async update(name: string, patch: { type?: ActionType; config?: Record<string, unknown> }): Promise<Action> {
    const p = parseOrThrow(ActionSpecSchema.pick({ config: true }).extend({ type: ActionTypeSchema.optional() }).partial(), patch);
    return withTransaction(this.host.pool, async (tx) => {
      const cur = await findAction(tx, this.s, name);
      if (!cur) throw new NotFoundError('action', name);
      const type = p.type ?? cur.type;
      const config = parseActionConfig(type, p.config ?? cur.config);
      storable(config, 'config');
      const a = await updateActionRow(tx, this.s, name, type, config);
      await this.notify(tx, `action:${a.id}`);
      return redactSecrets(a);
    });
  }

  async get(name: string): Promise<Action> {
    const a = await findAction(this.host.pool, this.s, name);
    if (!a) throw new NotFoundError('action', name);
    return redactSecrets(a);
  }

  async list(): Promise<Action[]> {
    return redactSecrets(await listActionRows(this.host.pool, this.s));
  }

  /** Deletes an action that no schedule uses (ConflictError names the ones that do). */
  async remove(name: string): Promise<void> {
    await withTransaction(this.host.pool, async (tx) => {
      await deleteAction(tx, this.s, name);
      await this.notify(tx, `action:${name}`);
    });
  }
}

/** Constraint violations, newest first. */
export async function queryViolations(host: ScheduleHost, filter: ViolationFilter = {}): Promise<Violation[]> {
  const f = parseOrThrow(ViolationFilterSchema, filter);
  const scheduleId = f.schedule === undefined ? undefined : (await findScheduleRow(host.pool, host.s, f.schedule)).id;
  return listViolations(host.pool, host.s, { scheduleId, type: f.type, runId: f.runId, before: f.before, limit: f.limit });
}

/** scheduler_stats rows, newest first. */
export function queryStats(host: ScheduleHost, limit = 50): Promise<SchedulerStatsRow[]> {
  return listStats(host.pool, host.s, Math.max(1, Math.min(Math.trunc(limit) || 50, 1000)));
}
