/** What the schedule, constraint and action APIs share: masking, field errors, NOTIFY, re-planning. */
import { ValidationError, type FieldIssue } from '../db/errors.js';
import type { Queryable } from '../db/pool.js';
import { serialiseJson } from '../schemas.js';
import { schedulesChannel, type ScheduleHost } from './host.js';
import { notifyScheduleChange, resetFutureRuns } from './schedules-store.js';

const MASK = '********';

/** Masks every `secret` value (webhook and hook configs) in a copy of `v`. */
export function redactSecrets<T>(v: T): T {
  if (Array.isArray(v)) return v.map(redactSecrets) as T;
  if (v && typeof v === 'object' && !(v instanceof Date)) {
    return Object.fromEntries(
      Object.entries(v).map(([k, x]) => [k, k === 'secret' && typeof x === 'string' ? MASK : redactSecrets(x)]),
    ) as T;
  }
  return v;
}

export function prefixed(err: unknown, prefix: string): unknown {
  if (!(err instanceof ValidationError)) return err;
  return new ValidationError(err.issues.map((i): FieldIssue => ({ path: [prefix, i.path].filter(Boolean).join('.'), message: i.message })));
}

/**
 * PostgreSQL cannot store NUL characters or unpaired surrogates (text or jsonb): refused here
 * with the field named, like job inputs, rather than failing in the driver.
 */
export function storable(value: unknown, field: string): void {
  if (value !== undefined && value !== null) serialiseJson(value, field, Number.MAX_SAFE_INTEGER);
}

/** The inline constraint of a schedule is stored under this name. */
export const inlineConstraintName = (schedule: string) => `schedule:${schedule}`;

export abstract class ApiBase {
  constructor(protected readonly host: ScheduleHost) {}
  protected get s(): string {
    return this.host.s;
  }
  protected notify(db: Queryable, what: string): Promise<void> {
    return notifyScheduleChange(db, schedulesChannel(this.host.schema), what);
  }
}

/** Schedules that use a changed constraint get their not-started runs re-planned. */
export async function resetUsers(tx: Queryable, host: ScheduleHost, constraintId: number): Promise<void> {
  const { rows } = await tx.query(`select id from ${host.s}.schedules where constraint_id = $1`, [constraintId]);
  if (rows.length)
    await resetFutureRuns(
      tx,
      host,
      rows.map((r) => r.id),
    );
}
