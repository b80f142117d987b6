import { z } from 'zod';
import { ValidationError } from '../db/errors.js';
import type { Queryable } from '../db/pool.js';
import { parseOrThrow } from '../schemas.js';

/**
 * A group's own settings (the `job_groups` row, stored once per group, never per job): its tier
 * (which `groupConcurrency.tiers` entry applies) and its weight in fair claiming. `held` is not
 * set here: quotas hold and release groups.
 */
export const GroupPatchSchema = z.strictObject({
  tier: z.string().min(1, 'tier must be a non-empty string').max(100).nullable().optional(),
  weight: z.number().int('weight must be a whole number').min(1, 'weight must be at least 1').max(1000).optional(),
});
export type GroupPatch = z.input<typeof GroupPatchSchema>;

const GroupKey = z.string({ error: 'group must be a string (e.g. a tenant id)' }).min(1, 'group must be a non-empty string').max(255);

export interface GroupSettings {
  key: string;
  tier?: string;
  weight: number;
  /** Why the group's jobs are held (e.g. `quota`), when they are. */
  heldReason?: string;
}

const mapGroup = (r: Record<string, any>): GroupSettings => ({
  key: r.key,
  weight: r.weight,
  ...(r.tier !== null ? { tier: r.tier } : {}),
  ...(r.held_reason !== null ? { heldReason: r.held_reason } : {}),
});

/**
 * Creates or changes a group's row. A tier must be named in some queue's `groupConcurrency.tiers`
 * (set the queue's tiers first): a typo would otherwise silently give the group the default limit.
 */
export async function updateGroup(db: Queryable, s: string, key: unknown, patch: GroupPatch): Promise<GroupSettings> {
  const k = parseOrThrow(GroupKey, key, 'group');
  const p = parseOrThrow(GroupPatchSchema, patch);
  if (p.tier) {
    const { rows } = await db.query(
      `select coalesce(array_agg(distinct t order by t), '{}') as tiers
         from ${s}.queues q, jsonb_object_keys(q.group_tiers) t where q.group_tiers is not null`,
    );
    const tiers: string[] = rows[0].tiers;
    if (!tiers.includes(p.tier)) {
      throw ValidationError.field(
        'tier',
        `unknown tier "${p.tier}": no queue's groupConcurrency.tiers names it (known: ${tiers.join(', ') || 'none'}); set the queue's tiers first`,
      );
    }
  }
  const { rows } = await db.query(
    `insert into ${s}.job_groups as g (key, tier, weight) values ($1, $2, coalesce($3, 1))
     on conflict (key) do update
        set tier = case when $4 then excluded.tier else g.tier end,
            weight = coalesce($3, g.weight), updated_at = now()
     returning *`,
    [k, p.tier ?? null, p.weight ?? null, p.tier !== undefined],
  );
  return mapGroup(rows[0]);
}

export async function getGroup(db: Queryable, s: string, key: string): Promise<GroupSettings> {
  const { rows } = await db.query(`select * from ${s}.job_groups where key = $1`, [key]);
  return rows.length ? mapGroup(rows[0]) : { key, weight: 1 };
}

/** One group of a queue, with its live counts and the limit that applies to it. */
export interface GroupCounts {
  group: string;
  running: number;
  available: number;
  tier?: string;
  weight: number;
  heldReason?: string;
  /** The group's concurrency limit in this queue (tier or default); absent = none. */
  limit?: number;
}

/**
 * Per-group counts of a queue (groups with running or available jobs), busiest first, at most
 * `limit` of them (default 100, at most 1000). Reads the claim and running indexes only.
 */
export async function listGroups(db: Queryable, s: string, queue: string, limit = 100): Promise<GroupCounts[]> {
  const n = Math.min(Math.max(Math.trunc(limit) || 100, 1), 1000);
  const { rows } = await db.query(
    `select c.group_key, c.running, c.available, jg.tier, coalesce(jg.weight, 1) as weight, jg.held_reason,
            case when q.group_tiers ? jg.tier then (q.group_tiers ->> jg.tier)::int else q.group_concurrency end as lim
       from (select group_key, count(*) filter (where state = 'running')::int as running,
                    count(*) filter (where state = 'available')::int as available
               from ${s}.jobs where queue = $1 and state in ('running', 'available') and group_key is not null
              group by group_key) c
       left join ${s}.job_groups jg on jg.key = c.group_key
       left join ${s}.queues q on q.name = $1
      order by c.running + c.available desc, c.group_key limit $2`,
    [queue, n],
  );
  return rows.map((r) => ({
    group: r.group_key,
    running: r.running,
    available: r.available,
    weight: r.weight,
    ...(r.tier !== null ? { tier: r.tier } : {}),
    ...(r.held_reason !== null ? { heldReason: r.held_reason } : {}),
    ...(r.lim !== null ? { limit: r.lim } : {}),
  }));
}

/** Why an available job is not running (computed on read). */
export const WaitingReason = {
  queuePaused: 'queue_paused',
  quota: 'quota',
  groupLimit: 'group_limit',
  rateLimit: 'rate_limit',
} as const;
export type WaitingReason = (typeof WaitingReason)[keyof typeof WaitingReason];

/**
 * For an available job: the first reason it cannot start now, in the order the claim checks them
 * (paused queue, held group, group at its concurrency limit, a full rate window, the queue at its
 * concurrencyLimit counts as group_limit's sibling and is not reported). Undefined = it can start
 * at the next claim (it is only waiting for a worker).
 */
export async function waitingReason(
  db: Queryable,
  s: string,
  job: { id: number; queue: string; group?: string; state: string },
): Promise<WaitingReason | undefined> {
  if (job.state !== 'available') return undefined;
  const { rows } = await db.query(
    `select coalesce(q.paused, false) as paused, jg.held_reason,
            case when q.group_tiers ? jg.tier then (q.group_tiers ->> jg.tier)::int else q.group_concurrency end as lim,
            (select count(*)::int from ${s}.jobs r where r.queue = $1 and r.state = 'running' and r.group_key = $2) as running,
            q.rate_limit, q.group_rate_limit,
            (select count(*)::int from ${s}.rate_windows w, unnest(w.starts) t
              where w.queue = $1 and w.group_key = '' and t > now() - q.rate_period_ms * interval '1 millisecond') as queue_started,
            (select count(*)::int from ${s}.rate_windows w, unnest(w.starts) t
              where w.queue = $1 and w.group_key = $2 and t > now() - q.group_rate_period_ms * interval '1 millisecond') as group_started
       from (select 1) one
       left join ${s}.queues q on q.name = $1
       left join ${s}.job_groups jg on jg.key = $2`,
    [job.queue, job.group ?? null],
  );
  const r = rows[0];
  if (r.paused) return WaitingReason.queuePaused;
  if (job.group === undefined) return r.rate_limit !== null && r.queue_started >= r.rate_limit ? WaitingReason.rateLimit : undefined;
  if (r.held_reason) return WaitingReason.quota;
  if (r.lim !== null && r.running >= r.lim) return WaitingReason.groupLimit;
  if (
    (r.rate_limit !== null && r.queue_started >= r.rate_limit) ||
    (r.group_rate_limit !== null && r.group_started >= r.group_rate_limit)
  ) {
    return WaitingReason.rateLimit;
  }
  return undefined;
}
