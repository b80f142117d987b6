/**
 * `jl.schedules`: every write is parsed by the zod schemas in schema.ts first (errors name the
 * field), happens in one transaction, and NOTIFYs the scheduler so its index follows at once.
 * Secrets in hook and webhook configs are masked on the way out.
 */
import { ConflictError, ValidationError } from '../db/errors.js';
import { withTransaction, type Queryable } from '../db/pool.js';
import { applyDefinitions } from '../definitions/apply.js';
import { DEFAULT_DAG_MAX_EDGES, DEFAULT_DAG_MAX_NODES } from '../dag/spec.js';
import { prepareDag } from '../dag/validate.js';
import { parseOrThrow, serialiseJson, type JobSpec } from '../schemas.js';
import { loadBindings, replaceBindings } from './actions-store.js';
import { ApiBase, inlineConstraintName, prefixed, redactSecrets, resetUsers, storable } from './api-base.js';
import {
  constraintValues,
  findConstraint,
  getConstraintById,
  insertConstraint,
  listConstraintRows,
  updateConstraintRow,
} from './constraints.js';
import { runJobKey } from './context.js';
import { compileCron, nextOccurrences, validateCron } from './cron.js';
import { insertRuns } from './materialise.js';
import type { Schedule, ScheduleRun } from './rows.js';
import { getRun } from './run-ops.js';
import { RunStatus, RunTrigger } from '../model/states.js';
import { isGated, type IndexedSchedule } from './schedule-index.js';
import {
  RunFilterSchema,
  SchedulePatchSchema,
  ScheduleSpecSchema,
  type RunFilter,
  type SchedulePatch,
  type ScheduleSpec,
} from './schema.js';
import {
  deleteScheduleRow,
  findScheduleRow,
  insertScheduleRow,
  listScheduleRows,
  listRunRows,
  resetFutureRuns,
  setPausedRow,
  updateScheduleRow,
  type ScheduleRef,
} from './schedules-store.js';

export class ScheduleApi extends ApiBase {
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
        description: p.description === undefined ? (cur.description ?? null) : p.description,
        cron,
        timezone,
        job: job ?? (dag ? null : (cur.job ?? null)),
        dag: dag ?? (job ? null : (cur.dag ?? null)),
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
      const [run] = await insertRuns(
        tx,
        this.host,
        sc,
        [{ scheduledAt: rows[0].now, trigger: RunTrigger.manual, status: RunStatus.scheduled }],
        rows[0].now,
        true,
      );
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
    const bindings = await loadBindings(
      this.host.pool,
      this.s,
      rows.map((r) => r.id),
    );
    const constraints = new Map((await listConstraintRows(this.host.pool, this.s)).map((c) => [c.id, c]));
    const now = new Date();
    return rows.map((r) =>
      redactSecrets({
        ...r,
        constraint: r.constraintId === undefined ? undefined : constraints.get(r.constraintId),
        actions: bindings.get(r.id) ?? [],
        nextRunAt: r.paused ? undefined : (compileCron(r.cron, r.timezone).cron.nextRun(now) ?? undefined),
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

function checkDag(dag: Record<string, unknown>): Record<string, unknown> {
  try {
    storable(dag, '');
    prepareDag(dag, { maxNodes: DEFAULT_DAG_MAX_NODES, maxEdges: DEFAULT_DAG_MAX_EDGES, maxInputBytes: Number.MAX_SAFE_INTEGER });
  } catch (err) {
    throw prefixed(err, 'dag');
  }
  return dag;
}
