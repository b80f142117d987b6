import { z } from 'zod';

/**
 * Queue settings for groups (issue 15), validated at the boundary and stored in the `queues` row
 * (migration 0007):
 *
 * - `groupConcurrency`: the most jobs of one group running at once across all workers — a number,
 *   or `{ default, tiers: { pro: 5 } }` where a group's tier is stored once in `job_groups.tier`
 *   (`jl.updateGroup(key, { tier })`); a group whose tier is not listed gets `default` (no
 *   `default` = no limit for it).
 * - `rateLimit: { limit, periodMs }`: at most `limit` jobs of the queue start in any window of
 *   `periodMs` (a sliding window, exact across workers).
 * - `groupRateLimit: { limit, periodMs }`: the same per group. A separate name rather than a
 *   `perGroup` flag so that a queue can have both (e.g. 1,000/s for the queue, 10/s per tenant).
 *
 * Any of these makes the queue's claims go through the grouped claim (`claim-groups.ts`).
 */
const Limit = z.number().int('must be a whole number').min(1, 'must be at least 1 (use null to remove the limit)').max(1_000_000);
const TierName = z.string().min(1).max(100);

export const GroupConcurrencySchema = z.union([
  Limit,
  z.strictObject({
    default: Limit.nullable().optional(),
    tiers: z.record(TierName, Limit).refine((t) => Object.keys(t).length <= 100, 'at most 100 tiers'),
  }),
]);

export const RateLimitSchema = z.strictObject({
  limit: z
    .number()
    .int('must be a whole number')
    .min(1, 'must be at least 1: a rate limit of 0 would never run a job (pause the queue instead)')
    .max(100_000),
  periodMs: z
    .number()
    .int('must be a whole number')
    .min(1, 'must be at least 1 ms')
    .max(24 * 3600 * 1000),
});

export const GroupQueueFields = {
  groupConcurrency: GroupConcurrencySchema.nullable().optional(),
  rateLimit: RateLimitSchema.nullable().optional(),
  groupRateLimit: RateLimitSchema.nullable().optional(),
};

export type GroupConcurrency = z.output<typeof GroupConcurrencySchema>;
export type RateLimit = z.output<typeof RateLimitSchema>;

/** The group fields of a queue's settings as read back. */
export interface GroupQueueSettings {
  groupConcurrency?: number | { default?: number; tiers: Record<string, number> };
  rateLimit?: RateLimit;
  groupRateLimit?: RateLimit;
}

type Patch = { groupConcurrency?: GroupConcurrency | null; rateLimit?: RateLimit | null; groupRateLimit?: RateLimit | null };

/** The columns (and values) a patch of the group fields writes; fields left out are not touched. */
export function groupColumns(p: Patch): [string, unknown][] {
  const out: [string, unknown][] = [];
  if (p.groupConcurrency !== undefined) {
    const g = p.groupConcurrency;
    if (g === null) out.push(['group_concurrency', null], ['group_tiers', null]);
    else if (typeof g === 'number') out.push(['group_concurrency', g], ['group_tiers', null]);
    else out.push(['group_concurrency', g.default ?? null], ['group_tiers', JSON.stringify(g.tiers)]);
  }
  for (const [key, limit, period] of [
    ['rateLimit', 'rate_limit', 'rate_period_ms'],
    ['groupRateLimit', 'group_rate_limit', 'group_rate_period_ms'],
  ] as const) {
    const r = p[key];
    if (r === undefined) continue;
    out.push([limit, r?.limit ?? null], [period, r?.periodMs ?? null]);
  }
  return out;
}

/** Reads the group fields back from a `queues` row. */
export function mapGroupSettings(r: Record<string, any>): GroupQueueSettings {
  const out: GroupQueueSettings = {};
  if (r.group_tiers)
    out.groupConcurrency = { ...(r.group_concurrency !== null ? { default: r.group_concurrency } : {}), tiers: r.group_tiers };
  else if (r.group_concurrency !== null && r.group_concurrency !== undefined) out.groupConcurrency = r.group_concurrency;
  if (r.rate_limit !== null && r.rate_limit !== undefined) out.rateLimit = { limit: r.rate_limit, periodMs: r.rate_period_ms };
  if (r.group_rate_limit !== null && r.group_rate_limit !== undefined)
    out.groupRateLimit = { limit: r.group_rate_limit, periodMs: r.group_rate_period_ms };
  return out;
}
