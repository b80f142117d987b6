/**
 * `jl.constraints`, `jl.actions`, and the reads behind `jl.violations()` and
 * `jl.schedulerStats()`. Writes are validated (an action's config against its type's schema,
 * errors named `config.<field>`), transactional and NOTIFYed, like schedules.
 */
import { NotFoundError } from '../db/errors.js';
import { withTransaction } from '../db/pool.js';
import { parseOrThrow } from '../schemas.js';
import { deleteAction, findAction, insertAction, listActionRows, parseActionConfig, updateActionRow } from './actions-store.js';
import { ApiBase, redactSecrets, resetUsers, storable } from './api-base.js';
import {
  constraintValues,
  deleteConstraint,
  findConstraint,
  insertConstraint,
  listConstraintRows,
  updateConstraintRow,
} from './constraints.js';
import type { ScheduleHost } from './host.js';
import type { Action, Constraint, SchedulerStatsRow, Violation } from './rows.js';
import {
  ActionSpecSchema,
  ActionTypeSchema,
  ConstraintPatchSchema,
  ConstraintSpecSchema,
  ViolationFilterSchema,
  type ActionSpec,
  type ActionType,
  type ConstraintPatch,
  type ConstraintSpec,
  type ViolationFilter,
} from './schema.js';
import { findScheduleRow } from './schedules-store.js';
import { listStats } from './stats.js';
import { listViolations } from './violations.js';

export class ConstraintApi extends ApiBase {
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

export class ActionApi extends ApiBase {
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
