/**
 * Quotas and the usage ledger (issue 15). The seed data model's customers, wallets and
 * wallet_transactions are: the tenant (customer) = a job group (`job_groups` row, key = the jobs'
 * `group`); `wallets` = its budget; `wallet_transactions` = the ledger.
 *
 * Units (`wallets.unit`): `attempts` — every finished attempt costs 1 (retries count: each used
 * worker time); `run_ms` — it costs its run time in milliseconds (at least 1). A `released`
 * attempt (a worker shutting down hands it back unused) is not charged.
 *
 * Charging is done by the trigger `job_executions_charge` (migration 0008): one ledger row per
 * finished attempt, in the transaction that writes the attempt's history row, unique per
 * (job, attempt) — a retried or duplicated write can never charge twice. It covers every path that
 * finishes an attempt (batched completion, rescue of a dead worker's job, cancel) without a line
 * in those hot statements. When a charge takes the balance to 0 or below, the group is held
 * (`job_groups.held_reason = 'quota'`, event `dev.jobline.group.held`); a top-up or set that makes it
 * positive releases it (`dev.jobline.group.released`). Held jobs stay `available`: claims skip
 * held groups. Attempts already running when the balance runs out finish and are charged, so a
 * balance can go below 0 (by at most the attempts in flight, including those claimed before the exhausting charge committed); the next top-up pays that back first.
 */
import { z } from 'zod';
import { NotFoundError } from '../db/errors.js';
import type { Queryable } from '../db/pool.js';
import { parseOrThrow, StorableText } from '../schemas.js';

export const QuotaUnit = { attempts: 'attempts', runMs: 'run_ms' } as const;
export type QuotaUnit = (typeof QuotaUnit)[keyof typeof QuotaUnit];

export const WalletEntryKind = { charge: 'charge', topUp: 'top_up', set: 'set', deleted: 'deleted' } as const;
export type WalletEntryKind = (typeof WalletEntryKind)[keyof typeof WalletEntryKind];

const MAX_UNITS = Number.MAX_SAFE_INTEGER;
const GroupKey = StorableText.pipe(z.string().min(1, 'group must be a non-empty string').max(255));
const Note = StorableText.pipe(z.string().max(1000, 'note is at most 1000 characters')).optional();

export const QuotaSpecSchema = z.strictObject({
  /** @default 'attempts' */
  unit: z.enum([QuotaUnit.attempts, QuotaUnit.runMs]).default(QuotaUnit.attempts),
  /** The balance to set, in units (0 holds the group at once). */
  balance: z.number().int('balance must be a whole number of units').min(0, 'balance must be 0 or more').max(MAX_UNITS),
  note: Note,
});
export type QuotaSpec = z.input<typeof QuotaSpecSchema>;

export const TopUpSchema = z.strictObject({
  group: GroupKey,
  amount: z
    .number()
    .int('amount must be a whole number of units')
    .min(1, 'amount must be at least 1 (a top-up adds units; use setQuota to lower a balance)')
    .max(MAX_UNITS),
  note: Note,
});

export const LedgerQuerySchema = z.strictObject({
  /** @default 100 */
  limit: z.number().int().min(1).max(1000).default(100),
  /** Entries older than this entry id (the previous page's `nextCursor`). */
  before: z.number().int().min(1).optional(),
});
export type LedgerQuery = z.input<typeof LedgerQuerySchema>;

/** A tenant's wallet as read. */
export interface Balance {
  group: string;
  unit: QuotaUnit;
  balance: number;
  /** True while the group's jobs are held (the balance is 0 or below). */
  held: boolean;
  updatedAt: Date;
}

/** One ledger entry. */
export interface WalletEntry {
  id: number;
  group: string;
  kind: WalletEntryKind;
  /** Signed change of the balance: negative for charges. */
  amount: number;
  balanceAfter: number;
  jobId?: number;
  attempt?: number;
  /** charge: how the attempt ended. */
  executionState?: string;
  note?: string;
  createdAt: Date;
}

export interface LedgerPage {
  entries: WalletEntry[];
  /** Pass as `before` for the next (older) page; absent on the last page. */
  nextCursor?: number;
}

const balanceSql = (s: string) => `
  select w.key, w.unit, w.balance, w.updated_at, g.held_reason
    from ${s}.wallets w join ${s}.job_groups g on g.key = w.key where w.key = $1`;

const mapBalance = (r: Record<string, any>): Balance => ({
  group: r.key,
  unit: r.unit,
  balance: Number(r.balance),
  held: r.held_reason === 'quota',
  updatedAt: r.updated_at,
});

export async function getBalance(db: Queryable, s: string, group: string): Promise<Balance> {
  const key = parseOrThrow(GroupKey, group, 'group');
  const { rows } = await db.query(balanceSql(s), [key]);
  if (!rows[0]) throw new NotFoundError('wallet of group', key);
  return mapBalance(rows[0]);
}

/**
 * Creates the group's wallet or replaces its unit and balance; the ledger records the change
 * (`set`) and the hold follows the new balance. `db` must be in a transaction.
 */
export async function setQuota(db: Queryable, s: string, group: string, spec: QuotaSpec): Promise<Balance> {
  const key = parseOrThrow(GroupKey, group, 'group');
  const q = parseOrThrow(QuotaSpecSchema, spec);
  await db.query(`insert into ${s}.job_groups (key) values ($1) on conflict (key) do nothing`, [key]);
  const { rows: old } = await db.query(`select balance from ${s}.wallets where key = $1 for update`, [key]);
  await db.query(
    `insert into ${s}.wallets (key, unit, balance) values ($1, $2, $3)
     on conflict (key) do update set unit = excluded.unit, balance = excluded.balance, updated_at = now()`,
    [key, q.unit, q.balance],
  );
  const before = old[0] ? Number(old[0].balance) : 0;
  await writeEntry(db, s, key, WalletEntryKind.set, q.balance - before, q.balance, q.note);
  return syncAndRead(db, s, key);
}

/** Adds units to an existing wallet; releases the group when the balance becomes positive. `db` in a transaction. */
export async function topUp(db: Queryable, s: string, group: string, amount: number, note?: string): Promise<Balance> {
  const t = parseOrThrow(TopUpSchema, { group, amount, note });
  const { rows } = await db.query(`update ${s}.wallets set balance = balance + $2, updated_at = now() where key = $1 returning balance`, [
    t.group,
    t.amount,
  ]);
  if (!rows[0]) throw new NotFoundError('wallet of group', `${t.group} (give it a quota first: setQuota)`);
  await writeEntry(db, s, t.group, WalletEntryKind.topUp, t.amount, Number(rows[0].balance), t.note);
  return syncAndRead(db, s, t.group);
}

/**
 * Deletes the group's wallet: its attempts are no longer charged, and a held group is released at
 * once (event `dev.jobline.group.released` without a balance). Held jobs stayed `available`, so they
 * simply become claimable: nothing is failed or lost. The ledger stays (migration 0009: it is the
 * record of what was used), closed by a `deleted` entry that writes the balance off to 0; a later
 * `setQuota` for the group continues it. A charge committing at the same moment either lands before
 * the delete (and is in the ledger before the `deleted` entry) or finds no wallet (the trigger locks
 * the wallet row first). Returns the wallet as it was, with `held: false`. NotFoundError without
 * one. `db` in a transaction.
 */
export async function deleteQuota(db: Queryable, s: string, group: string, note?: string): Promise<Balance> {
  const key = parseOrThrow(GroupKey, group, 'group');
  const { rows } = await db.query(`delete from ${s}.wallets where key = $1 returning key, unit, balance, updated_at`, [key]);
  if (!rows[0]) throw new NotFoundError('wallet of group', key);
  await writeEntry(db, s, key, WalletEntryKind.deleted, -Number(rows[0].balance), 0, note);
  await db.query(`select ${s}.quota_sync_holds(array[$1::text])`, [key]);
  return { ...mapBalance(rows[0]), held: false };
}

async function writeEntry(db: Queryable, s: string, key: string, kind: WalletEntryKind, amount: number, after: number, note?: string) {
  await db.query(`insert into ${s}.wallet_transactions (wallet_key, kind, amount, balance_after, note) values ($1, $2, $3, $4, $5)`, [
    key,
    kind,
    amount,
    after,
    note ?? null,
  ]);
}

async function syncAndRead(db: Queryable, s: string, key: string): Promise<Balance> {
  await db.query(`select ${s}.quota_sync_holds(array[$1::text])`, [key]);
  const { rows } = await db.query(balanceSql(s), [key]);
  return mapBalance(rows[0]);
}

/** The group's ledger, newest first; still readable after its quota was deleted. NotFoundError for a group that never had a quota. */
export async function listLedger(db: Queryable, s: string, group: string, query: LedgerQuery = {}): Promise<LedgerPage> {
  const key = parseOrThrow(GroupKey, group, 'group');
  const q = parseOrThrow(LedgerQuerySchema, query);
  const { rows } = await db.query(
    `select * from ${s}.wallet_transactions where wallet_key = $1 and ($2::bigint is null or id < $2)
      order by id desc limit $3`,
    [key, q.before ?? null, q.limit + 1],
  );
  if (!rows.length) {
    const known = await db.query(
      `select exists (select 1 from ${s}.wallets where key = $1) or exists (select 1 from ${s}.wallet_transactions where wallet_key = $1) as known`,
      [key],
    );
    if (!known.rows[0].known) throw new NotFoundError('wallet of group', key);
  }
  const entries = rows.slice(0, q.limit).map(
    (r): WalletEntry => ({
      id: Number(r.id),
      group: r.wallet_key,
      kind: r.kind,
      amount: Number(r.amount),
      balanceAfter: Number(r.balance_after),
      ...(r.job_id !== null ? { jobId: Number(r.job_id), attempt: r.attempt, executionState: r.execution_state } : {}),
      ...(r.note !== null ? { note: r.note } : {}),
      createdAt: r.created_at,
    }),
  );
  return rows.length > q.limit ? { entries, nextCursor: entries[entries.length - 1].id } : { entries };
}

/** Groups held now, by reason (for the `jobline_groups_held` gauge). */
export async function countHeldGroups(db: Queryable, s: string): Promise<Record<string, number>> {
  const { rows } = await db.query(`select held_reason, count(*)::int as n from ${s}.job_groups where held_reason is not null group by 1`);
  return Object.fromEntries(rows.map((r) => [r.held_reason, r.n]));
}
