import { quoteSchema } from './identifiers.js';

/**
 * Least-privilege GRANTs for the two kinds of processes (issue 7): a worker can claim, complete,
 * heartbeat, lead maintenance and relay events, but cannot create, drop or truncate anything; a
 * producer can enqueue, read and cancel, but cannot delete. Migrations run as the schema owner.
 *
 *   psql -c "create role jobline_worker login password '…'"
 *   node -e "import('@jobline/core').then(m => console.log(m.roleGrants('jobline', 'jobline_worker', 'worker').join(';\n')))" | psql
 */
export type RoleKind = 'worker' | 'producer';

type Privileges = Partial<Record<RoleKind, string>>;

/** Table → privileges per role kind. Keep in step with migrations/: a new table needs a line here. */
export const TABLE_PRIVILEGES: Record<string, Privileges> = {
  migrations: { worker: 'select', producer: 'select' },
  queues: { worker: 'select', producer: 'select' },
  job_definitions: { worker: 'select', producer: 'select, insert, update' },
  // Workers insert jobs for scheduled runs and retry actions; they delete finished ones (retention).
  jobs: { worker: 'select, insert, update, delete', producer: 'select, insert, update' },
  job_executions: { worker: 'select, insert, delete', producer: 'select, insert' },
  workers: { worker: 'select, insert, update, delete', producer: 'select' },
  dag_runs: { worker: 'select, update, delete', producer: 'select, insert, update' },
  dag_nodes: { worker: 'select, update', producer: 'select, insert, update' },
  events: { worker: 'select, insert, delete', producer: 'select, insert' },
  leases: { worker: 'select, insert, update, delete' },
  // Schedules (issue 8): workers run the scheduler; producers manage schedules, constraints, actions.
  constraints: { worker: 'select', producer: 'select, insert, update, delete' },
  schedules: { worker: 'select, update', producer: 'select, insert, update, delete' },
  actions: { worker: 'select', producer: 'select, insert, update, delete' },
  schedule_actions: { worker: 'select', producer: 'select, insert, update, delete' },
  schedule_runs: { worker: 'select, insert, update, delete', producer: 'select, insert, update, delete' },
  constraint_violations: { worker: 'select, insert, update', producer: 'select' },
  scheduler_stats: { worker: 'select, insert, delete', producer: 'select' },
  // One row per scheduler pass (0005): the leader (in a worker) writes and prunes them.
  orchestrator_stats: { worker: 'select, insert, delete', producer: 'select' },
  // Groups (0006): producers set tiers and weights; workers hold and release groups (quotas).
  job_groups: { worker: 'select, insert, update', producer: 'select, insert, update' },
  // Rate windows (0007): written by the grouped claim (workers), pruned by the maintenance leader (a
  // worker); producers read them for waiting reasons.
  rate_windows: { worker: 'select, insert, update, delete', producer: 'select' },
  // Enqueue policies (0008): whoever enqueues opens and moves throttle/debounce windows; the
  // maintenance leader (a worker) prunes closed ones.
  enqueue_windows: { worker: 'select, insert, update, delete', producer: 'select, insert, update' },
  // Quotas (0008): finishing an attempt (worker; producer cancels) charges the wallet by trigger; producers set,
  // top up and delete (the ledger's rows go by the foreign key's cascade, which runs as the table owner).
  wallets: { worker: 'select, update', producer: 'select, insert, update, delete' },
  wallet_transactions: { worker: 'select, insert', producer: 'select, insert' },
};

/** The GRANT statements for `role` on `schema`'s tables (only tables that exist are granted by the caller's choice). */
export function roleGrants(schema: string, role: string, kind: RoleKind, tables: string[] = Object.keys(TABLE_PRIVILEGES)): string[] {
  const s = quoteSchema(schema);
  const r = `"${role.replace(/"/g, '""')}"`;
  const out = [`grant usage on schema ${s} to ${r}`];
  for (const t of tables) {
    const p = TABLE_PRIVILEGES[t]?.[kind];
    if (p) out.push(`grant ${p} on ${s}."${t}" to ${r}`);
  }
  // Identity columns draw from sequences: inserting needs usage on them.
  out.push(`grant usage on all sequences in schema ${s} to ${r}`);
  return out;
}
