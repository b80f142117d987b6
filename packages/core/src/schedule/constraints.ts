/**
 * Constraint rows: one statement per query, validated input only (api.ts parses first).
 * Durations are written as intervals and read back as milliseconds.
 */
import { ConflictError, NotFoundError, fromPgError } from '../db/errors.js';
import type { Queryable } from '../db/pool.js';
import { CONSTRAINT_COLUMNS, mapConstraint, type Constraint, type ConstraintRow } from './rows.js';
import type { ConstraintFields } from './schema.js';
import type { z } from 'zod';

type Fields = { [K in keyof typeof ConstraintFields]: z.output<(typeof ConstraintFields)[K]> };

/** The full set of stored values: a patch is merged over the current row before this is written. */
export interface ConstraintValues {
  maxConcurrentRuns: number | null;
  concurrencyPolicy: 'skip' | 'delay';
  catchUp: boolean;
  catchUpWindowMs: number | null;
  maxExpectedRunTimeMs: number | null;
  maxAllowedRunTimeMs: number | null;
  preRunHook: unknown;
  postRunHook: unknown;
  requirePreviousSuccess: unknown;
}

export function constraintValues(f: Partial<Fields>, base?: Constraint): ConstraintValues {
  const pick = <K extends keyof Fields, B>(k: K, b: B) => (f[k] === undefined ? b : f[k]);
  const rps = pick('requirePreviousSuccess', base?.requirePreviousSuccess ?? null);
  return {
    maxConcurrentRuns: pick('maxConcurrentRuns', base?.maxConcurrentRuns ?? null) ?? null,
    concurrencyPolicy: pick('concurrencyPolicy', base?.concurrencyPolicy ?? 'skip') ?? 'skip',
    catchUp: pick('catchUp', base?.catchUp ?? false) ?? false,
    catchUpWindowMs: pick('catchUpWindowMs', base?.catchUpWindowMs ?? null) ?? null,
    maxExpectedRunTimeMs: pick('maxExpectedRunTimeMs', base?.maxExpectedRunTimeMs ?? null) ?? null,
    maxAllowedRunTimeMs: pick('maxAllowedRunTimeMs', base?.maxAllowedRunTimeMs ?? null) ?? null,
    preRunHook: pick('preRunHook', base?.preRunHook ?? null) ?? null,
    postRunHook: pick('postRunHook', base?.postRunHook ?? null) ?? null,
    // false means off, stored as null
    requirePreviousSuccess: rps === false ? null : (rps ?? null),
  };
}

const params = (v: ConstraintValues) => [
  v.maxConcurrentRuns,
  v.concurrencyPolicy,
  v.catchUp,
  v.catchUpWindowMs,
  v.maxExpectedRunTimeMs,
  v.maxAllowedRunTimeMs,
  v.preRunHook === null ? null : JSON.stringify(v.preRunHook),
  v.postRunHook === null ? null : JSON.stringify(v.postRunHook),
  v.requirePreviousSuccess === null ? null : JSON.stringify(v.requirePreviousSuccess),
];

const ms = (n: number) => `$${n} * interval '1 millisecond'`;

export async function insertConstraint(db: Queryable, s: string, name: string, v: ConstraintValues): Promise<Constraint> {
  try {
    const { rows } = await db.query<ConstraintRow>(
      `with c as (
         insert into ${s}.constraints (name, max_concurrent_runs, concurrency_policy, catch_up, catch_up_window,
                                       max_expected_run_time, max_allowed_run_time, pre_run_hook, post_run_hook,
                                       require_previous_success)
         values ($1, $2, $3, $4, ${ms(5)}, ${ms(6)}, ${ms(7)}, $8, $9, $10)
         returning *)
       select ${CONSTRAINT_COLUMNS} from c`,
      [name, ...params(v)],
    );
    return mapConstraint(rows[0]);
  } catch (err) {
    throw fromPgError(err, 'constraint');
  }
}

export async function updateConstraintRow(db: Queryable, s: string, id: number, v: ConstraintValues): Promise<Constraint> {
  const { rows } = await db.query<ConstraintRow>(
    `with c as (
       update ${s}.constraints set max_concurrent_runs = $2, concurrency_policy = $3, catch_up = $4,
              catch_up_window = ${ms(5)}, max_expected_run_time = ${ms(6)}, max_allowed_run_time = ${ms(7)},
              pre_run_hook = $8, post_run_hook = $9, require_previous_success = $10, updated_at = now()
        where id = $1
       returning *)
     select ${CONSTRAINT_COLUMNS} from c`,
    [id, ...params(v)],
  );
  if (!rows.length) throw new NotFoundError('constraint', id);
  return mapConstraint(rows[0]);
}

export async function findConstraint(db: Queryable, s: string, name: string, lock = false): Promise<Constraint | undefined> {
  const { rows } = await db.query<ConstraintRow>(
    `select ${CONSTRAINT_COLUMNS} from ${s}.constraints c where c.name = $1 ${lock ? 'for update' : ''}`,
    [name],
  );
  return rows[0] && mapConstraint(rows[0]);
}

export async function getConstraintById(db: Queryable, s: string, id: number): Promise<Constraint> {
  const { rows } = await db.query<ConstraintRow>(`select ${CONSTRAINT_COLUMNS} from ${s}.constraints c where c.id = $1`, [id]);
  if (!rows.length) throw new NotFoundError('constraint', id);
  return mapConstraint(rows[0]);
}

export async function listConstraintRows(db: Queryable, s: string): Promise<Constraint[]> {
  const { rows } = await db.query<ConstraintRow>(`select ${CONSTRAINT_COLUMNS} from ${s}.constraints c order by c.name`);
  return rows.map(mapConstraint);
}

/** Deletes an unused constraint; one still named by a schedule is a ConflictError that lists them. */
export async function deleteConstraint(db: Queryable, s: string, name: string): Promise<void> {
  const { rows: users } = await db.query<{ name: string }>(
    `select s.name from ${s}.schedules s join ${s}.constraints c on c.id = s.constraint_id where c.name = $1 order by s.name limit 10`,
    [name],
  );
  if (users.length) {
    throw new ConflictError(
      `constraint "${name}" is used by schedule(s) ${users.map((u) => `"${u.name}"`).join(', ')}; change those schedules first`,
      {
        constraint: name,
        schedules: users.map((u) => u.name),
      },
    );
  }
  const { rowCount } = await db.query(`delete from ${s}.constraints where name = $1`, [name]);
  if (!rowCount) throw new NotFoundError('constraint', name);
}
