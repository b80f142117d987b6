/**
 * `@jobline/core/tenants`: the shapes of multi-tenant work (issue 15) — group settings and
 * per-group counts, why a job waits, enqueue policies, and quota balances and their ledger.
 * The calls themselves are methods of `Jobline` (updateGroup, listGroups, setQuota, topUp, …).
 */
export type { GroupCounts, GroupPatch, GroupSettings, WaitingReason } from './queue/groups.js';
export { EnqueuePolicy } from './queue/enqueue-policies.js';
export type { Balance, LedgerPage, LedgerQuery, QuotaSpec, QuotaUnit, WalletEntry, WalletEntryKind } from './queue/quota.js';
