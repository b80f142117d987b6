/** Action rows and schedule bindings; one function per query. */
import { ConflictError, NotFoundError, ValidationError, fromPgError, type FieldIssue } from '../db/errors.js';
import type { Queryable } from '../db/pool.js';
import { parseOrThrow } from '../schemas.js';
import { mapAction, type Action, type ScheduleActionBinding, type ActionRow } from './rows.js';
import { ActionConfigSchemas, type ActionBinding, type ActionType } from './schema.js';

/** Validates an action's config against its type's schema; errors are named `config.<field>`. */
export function parseActionConfig(type: ActionType, config: unknown): Record<string, unknown> {
  return parseOrThrow(ActionConfigSchemas[type], config, 'config') as Record<string, unknown>;
}

export async function insertAction(
  db: Queryable,
  s: string,
  name: string,
  type: ActionType,
  config: Record<string, unknown>,
): Promise<Action> {
  try {
    const { rows } = await db.query<ActionRow>(`insert into ${s}.actions (name, action_type, config) values ($1, $2, $3) returning *`, [
      name,
      type,
      JSON.stringify(config),
    ]);
    return mapAction(rows[0]);
  } catch (err) {
    throw fromPgError(err, 'action');
  }
}

export async function updateActionRow(
  db: Queryable,
  s: string,
  name: string,
  type: ActionType,
  config: Record<string, unknown>,
): Promise<Action> {
  const { rows } = await db.query<ActionRow>(
    `update ${s}.actions set action_type = $2, config = $3, updated_at = now() where name = $1 returning *`,
    [name, type, JSON.stringify(config)],
  );
  if (!rows.length) throw new NotFoundError('action', name);
  return mapAction(rows[0]);
}

export async function findAction(db: Queryable, s: string, name: string): Promise<Action | undefined> {
  const { rows } = await db.query<ActionRow>(`select * from ${s}.actions where name = $1`, [name]);
  return rows[0] && mapAction(rows[0]);
}

export async function listActionRows(db: Queryable, s: string): Promise<Action[]> {
  const { rows } = await db.query<ActionRow>(`select * from ${s}.actions order by name`);
  return rows.map(mapAction);
}

export async function deleteAction(db: Queryable, s: string, name: string): Promise<void> {
  const { rows: users } = await db.query<{ name: string }>(
    `select distinct s.name from ${s}.schedule_actions sa join ${s}.actions a on a.id = sa.action_id
       join ${s}.schedules s on s.id = sa.schedule_id where a.name = $1 order by s.name limit 10`,
    [name],
  );
  if (users.length) {
    throw new ConflictError(`action "${name}" is attached to schedule(s) ${users.map((u) => `"${u.name}"`).join(', ')}; detach it first`, {
      action: name,
      schedules: users.map((u) => u.name),
    });
  }
  const { rowCount } = await db.query(`delete from ${s}.actions where name = $1`, [name]);
  if (!rowCount) throw new NotFoundError('action', name);
}

/** Replaces a schedule's bindings; unknown action or constraint names are reported by path (`actions.2.action`). */
export async function replaceBindings(db: Queryable, s: string, scheduleId: number, bindings: ActionBinding[]): Promise<void> {
  const names = [...new Set(bindings.map((b) => b.action))];
  const cnames = [...new Set(bindings.flatMap((b) => (b.constraint ? [b.constraint] : [])))];
  const { rows: acts } = await db.query<{ id: number; name: string }>(`select id, name from ${s}.actions where name = any($1::text[])`, [
    names,
  ]);
  const { rows: cons } = await db.query<{ id: number; name: string }>(
    `select id, name from ${s}.constraints where name = any($1::text[])`,
    [cnames],
  );
  const actionIds = new Map(acts.map((a) => [a.name as string, a.id as number]));
  const constraintIds = new Map(cons.map((c) => [c.name as string, c.id as number]));
  const issues: FieldIssue[] = [];
  bindings.forEach((b, i) => {
    if (!actionIds.has(b.action)) issues.push({ path: `actions.${i}.action`, message: `no action named "${b.action}"; create it first` });
    if (b.constraint !== undefined) {
      if (b.trigger !== 'on_violation')
        issues.push({ path: `actions.${i}.constraint`, message: 'only on_violation bindings take a constraint' });
      else if (!constraintIds.has(b.constraint))
        issues.push({ path: `actions.${i}.constraint`, message: `no constraint named "${b.constraint}"` });
    }
  });
  if (issues.length) throw new ValidationError(issues);
  await db.query(`delete from ${s}.schedule_actions where schedule_id = $1`, [scheduleId]);
  if (!bindings.length) return;
  await db.query(
    `insert into ${s}.schedule_actions (schedule_id, action_id, trigger, constraint_id)
     select $1, a, t, c from unnest($2::bigint[], $3::text[], $4::bigint[]) with ordinality as u(a, t, c, ord)
     order by ord
     on conflict do nothing`,
    [
      scheduleId,
      bindings.map((b) => actionIds.get(b.action)),
      bindings.map((b) => b.trigger),
      bindings.map((b) => (b.constraint ? constraintIds.get(b.constraint) : null)),
    ],
  );
}

/** Bindings of the given schedules, in attachment order, keyed by schedule id. */
export async function loadBindings(db: Queryable, s: string, scheduleIds: number[] | 'all'): Promise<Map<number, ScheduleActionBinding[]>> {
  const { rows } = await db.query(
    `select sa.schedule_id, sa.action_id, a.name as action, a.action_type, sa.trigger, sa.constraint_id, c.name as constraint_name
       from ${s}.schedule_actions sa join ${s}.actions a on a.id = sa.action_id
       left join ${s}.constraints c on c.id = sa.constraint_id
      where $1::bigint[] is null or sa.schedule_id = any($1::bigint[])
      order by sa.schedule_id, sa.id`,
    [scheduleIds === 'all' ? null : scheduleIds],
  );
  const out = new Map<number, ScheduleActionBinding[]>();
  for (const r of rows) {
    const list = out.get(r.schedule_id) ?? [];
    list.push({
      actionId: r.action_id,
      action: r.action,
      type: r.action_type,
      trigger: r.trigger,
      constraintId: r.constraint_id ?? undefined,
      constraint: r.constraint_name ?? undefined,
    });
    out.set(r.schedule_id, list);
  }
  return out;
}
