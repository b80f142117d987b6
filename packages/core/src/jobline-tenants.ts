import { inTransaction } from './db/pool.js';
import { JoblineBase } from './jobline-base.js';
import type { TxOption } from './connect-options.js';
import { getGroup, listGroups, updateGroup, type GroupCounts, type GroupPatch, type GroupSettings } from './queue/groups.js';
import {
  countHeldGroups,
  deleteQuota,
  getBalance,
  listLedger,
  setQuota,
  topUp,
  type Balance,
  type LedgerPage,
  type LedgerQuery,
  type QuotaSpec,
} from './queue/quota.js';

/**
 * The multi-tenant calls of the facade (issue 15): a group's tier and weight, its counts, and its
 * quota — wallet, top-ups and the usage ledger (queue/groups.ts, queue/quota.ts). Between
 * `JoblineBase` (state, reads, settings) and `Jobline` (connect, writes, workers, close).
 */
export abstract class JoblineTenants extends JoblineBase {
  /** Sets a group's tier (a queue's `groupConcurrency.tiers` entry) and fair-share weight, once per group. */
  updateGroup(key: string, patch: GroupPatch): Promise<GroupSettings> {
    return updateGroup(this.pool, this.s, key, patch);
  }

  getGroup(key: string): Promise<GroupSettings> {
    return getGroup(this.pool, this.s, key);
  }

  /** Running and available jobs per group of a queue, busiest first (at most `limit`, default 100). */
  listGroups(queue: string, limit?: number): Promise<GroupCounts[]> {
    return listGroups(this.pool, this.s, queue, limit);
  }

  // ---- quotas: a group's wallet, top-ups and the usage ledger ----

  /** Creates or replaces a group's (tenant's) wallet: its unit and balance. Balance 0 holds its jobs. */
  setQuota(group: string, spec: QuotaSpec, opts: TxOption = {}): Promise<Balance> {
    return inTransaction(this.pool, opts.tx, (tx) => setQuota(tx, this.s, group, spec));
  }

  /** Adds units to a group's wallet (NotFoundError without one); a positive balance releases held jobs. */
  topUp(group: string, amount: number, opts: TxOption & { note?: string } = {}): Promise<Balance> {
    return inTransaction(this.pool, opts.tx, (tx) => topUp(tx, this.s, group, amount, opts.note));
  }

  /** Deletes a group's wallet (NotFoundError without one), keeping its ledger; a held group is released at once. */
  deleteQuota(group: string, opts: TxOption & { note?: string } = {}): Promise<Balance> {
    return inTransaction(this.pool, opts.tx, (tx) => deleteQuota(tx, this.s, group, opts.note));
  }

  /** A group's wallet: unit, balance and whether its jobs are held. NotFoundError without one. */
  getBalance(group: string): Promise<Balance> {
    return getBalance(this.pool, this.s, group);
  }

  /** A group's ledger, newest first: one charge per finished attempt, every top-up and set, and the deletion of its quota (the ledger outlives it). */
  listLedger(group: string, query: LedgerQuery = {}): Promise<LedgerPage> {
    return listLedger(this.pool, this.s, group, query);
  }

  /** Groups held now, by reason (`{ quota: 3 }`), for a gauge. */
  heldGroupCounts(): Promise<Record<string, number>> {
    return countHeldGroups(this.pool, this.s);
  }
}
