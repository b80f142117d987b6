import { z } from 'zod';
import type { Queryable } from '../db/pool.js';
import { JobEvent } from '../events/outbox.js';
import { QueueName, parseOrThrow } from '../schemas.js';
import type { ResolvedBackoff } from './retry.js';
import { GroupQueueFields, groupColumns, mapGroupSettings, type GroupQueueSettings } from './group-settings.js';

/**
 * Per-queue settings (the `queues` row). A queue needs no row; a row overrides defaults:
 * `paused` stops claims, `concurrencyLimit` caps running jobs across all workers, `maxAttempts`
 * and `timeoutMs` are defaults for jobs enqueued without them, `backoffBaseMs`/`backoffMaxMs`
 * override the workers' retry backoff, `emitEvents` chooses which job events the outbox records.
 * Workers pick up changes within 5 s (pause: at the next claim).
 */
export const QueueConfigSchema = z.strictObject({
  paused: z.boolean().optional(),
  concurrencyLimit: z.number().int().min(1).max(1_000_000).nullable().optional(),
  maxAttempts: z.number().int().min(1).max(1000).nullable().optional(),
  timeoutMs: z
    .number()
    .int()
    .min(1)
    .max(7 * 24 * 3600 * 1000)
    .nullable()
    .optional(),
  backoffBaseMs: z
    .number()
    .int()
    .min(0)
    .max(24 * 3600 * 1000)
    .nullable()
    .optional(),
  backoffMaxMs: z
    .number()
    .int()
    .min(0)
    .max(7 * 24 * 3600 * 1000)
    .nullable()
    .optional(),
  emitEvents: z
    .array(z.enum(Object.values(JobEvent) as [string, ...string[]]))
    .nullable()
    .optional(),
  ...GroupQueueFields,
});
export type QueueConfig = z.input<typeof QueueConfigSchema>;

export interface QueueSettings extends GroupQueueSettings {
  name: string;
  paused: boolean;
  concurrencyLimit?: number;
  maxAttempts?: number;
  timeoutMs?: number;
  backoffBaseMs?: number;
  backoffMaxMs?: number;
  emitEvents?: string[];
}

type PlainKey = Exclude<keyof z.output<typeof QueueConfigSchema>, keyof typeof GroupQueueFields>;
const COLUMNS: Record<PlainKey, string> = {
  paused: 'paused',
  concurrencyLimit: 'concurrency_limit',
  maxAttempts: 'max_attempts',
  timeoutMs: 'timeout_ms',
  backoffBaseMs: 'backoff_base_ms',
  backoffMaxMs: 'backoff_max_ms',
  emitEvents: 'emit_events',
};

/** A `queues` row (`select *`): the settings columns of `COLUMNS`, by column name. */
type QueueRow = { name: string; paused: boolean } & Record<string, unknown>;

function mapQueue(r: QueueRow): QueueSettings {
  const out: QueueSettings = { name: r.name, paused: r.paused, ...mapGroupSettings(r) };
  for (const [key, col] of Object.entries(COLUMNS)) {
    if (key !== 'paused' && r[col] !== null && r[col] !== undefined) (out as any)[key] = r[col];
  }
  return out;
}

/** Creates or changes a queue's row; fields left out keep their value, `null` clears one. */
export async function updateQueue(db: Queryable, s: string, name: string, patch: QueueConfig): Promise<QueueSettings> {
  const queue = parseOrThrow(QueueName, name, 'name');
  const p = parseOrThrow(QueueConfigSchema, patch);
  const keys = (Object.keys(p) as (keyof typeof p)[]).filter((k): k is PlainKey => k in COLUMNS);
  const grouped = groupColumns(p);
  const cols = keys.map((k) => COLUMNS[k]).concat(grouped.map(([c]) => c));
  const values = (keys.map((k) => p[k]) as unknown[]).concat(grouped.map(([, v]) => v));
  const set = cols
    .map((c, i) => `${c} = $${i + 2}`)
    .concat('updated_at = now()')
    .join(', ');
  const { rows } = await db.query<QueueRow>(
    `insert into ${s}.queues (name${cols.map((c) => `, ${c}`).join('')})
     values ($1${cols.map((_, i) => `, $${i + 2}`).join('')})
     on conflict (name) do update set ${set}
     returning *`,
    [queue, ...values],
  );
  return mapQueue(rows[0]);
}

export async function getQueueSettings(db: Queryable, s: string, names: string[]): Promise<QueueSettings[]> {
  const { rows } = await db.query<QueueRow>(`select * from ${s}.queues where name = any($1::text[])`, [names]);
  return rows.map(mapQueue);
}

/** The backoff a worker uses for a queue: the queue's overrides on top of the worker's. */
export function backoffFor(settings: QueueSettings | undefined, base: ResolvedBackoff): ResolvedBackoff {
  if (!settings) return base;
  return { ...base, baseMs: settings.backoffBaseMs ?? base.baseMs, maxMs: settings.backoffMaxMs ?? base.maxMs };
}
