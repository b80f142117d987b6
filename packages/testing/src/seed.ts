/**
 * Idempotent seed data: running `seed()` twice leaves the database as running it once. Queues
 * are upserted, definitions registered (an identical one is not a new version), constraints,
 * actions and schedules created or updated by name, jobs enqueued with an idempotency key
 * (derived from the job itself when it has none). Tenants get a wallet only when they have none:
 * an existing wallet's balance is live usage data, and a second run must not reset it (nor write a
 * ledger entry).
 */
import { createHash } from 'node:crypto';
import { NotFoundError, type DefinitionSpec, type EnqueueSpec, type Jobline, type QueueConfig, type ScheduleSpec } from '@jobline/core';
import type { QuotaSpec } from '@jobline/core/tenants';
import type { ActionSpec, ConstraintSpec } from '@jobline/core/schedule';

export interface SeedData {
  /** Queue settings by queue name. */
  queues?: Record<string, QueueConfig>;
  definitions?: DefinitionSpec[];
  constraints?: ConstraintSpec[];
  actions?: ActionSpec[];
  schedules?: ScheduleSpec[];
  jobs?: EnqueueSpec[];
  /** Tenants (job groups) with their wallet, by group key: `{ 'acme': { balance: 1000 } }`. */
  tenants?: Record<string, QuotaSpec>;
}

/**
 * A development data set: three tenants with wallets (one exhausted, so its jobs are held) and a
 * few jobs of each. `seed(jl, DEV_SEED)` any number of times.
 */
export const DEV_SEED: SeedData = {
  tenants: {
    acme: { unit: 'attempts', balance: 10_000, note: 'seed: pro plan' },
    globex: { unit: 'run_ms', balance: 60_000, note: 'seed: one minute of run time' },
    initech: { unit: 'attempts', balance: 0, note: 'seed: exhausted (held)' },
  },
  jobs: ['acme', 'globex', 'initech'].flatMap((group) =>
    [1, 2, 3].map((n) => ({ queue: 'tenant-work', name: 'report', group, input: { group, n } })),
  ),
};

export interface SeedResult {
  /** Jobs in input order, with `created: false` for those that existed already. */
  jobs: { id: number; created: boolean }[];
  /** Definitions registered as new versions by this call. */
  definitionsCreated: number;
  /** Tenants whose wallet this call created. */
  tenantsCreated: number;
  /** Constraints, actions and schedules created (not updated) by this call. */
  created: { constraints: number; actions: number; schedules: number };
}

/** Creates or updates by name: `get` throws NotFoundError when missing. */
async function upsert<T>(get: () => Promise<unknown>, add: () => Promise<T>, update: () => Promise<T>): Promise<boolean> {
  try {
    await get();
  } catch (err) {
    if (!(err instanceof NotFoundError)) throw err;
    await add();
    return true;
  }
  await update();
  return false;
}

const seedKey = (job: EnqueueSpec) => `seed:${createHash('sha256').update(JSON.stringify(job)).digest('hex').slice(0, 32)}`;

export async function seed(jl: Jobline, data: SeedData): Promise<SeedResult> {
  for (const [name, config] of Object.entries(data.queues ?? {})) await jl.updateQueue(name, config);
  let definitionsCreated = 0;
  for (const d of data.definitions ?? []) if ((await jl.createDefinition(d)).created) definitionsCreated++;
  const created = { constraints: 0, actions: 0, schedules: 0 };
  for (const c of data.constraints ?? []) {
    const { name, ...patch } = c;
    if (
      await upsert(
        () => jl.constraints.get(name),
        () => jl.constraints.add(c),
        () => jl.constraints.update(name, patch),
      )
    )
      created.constraints++;
  }
  for (const a of data.actions ?? []) {
    if (
      await upsert(
        () => jl.actions.get(a.name),
        () => jl.actions.add(a),
        () => jl.actions.update(a.name, { type: a.type, config: a.config }),
      )
    )
      created.actions++;
  }
  for (const s of data.schedules ?? []) {
    const { name, ...patch } = s;
    if (
      await upsert(
        () => jl.schedules.get(name),
        () => jl.schedules.add(s),
        () => jl.schedules.update(name, patch),
      )
    )
      created.schedules++;
  }
  let tenantsCreated = 0;
  for (const [group, spec] of Object.entries(data.tenants ?? {})) {
    try {
      await jl.getBalance(group);
    } catch (err) {
      if (!(err instanceof NotFoundError)) throw err;
      await jl.setQuota(group, spec);
      tenantsCreated++;
    }
  }
  const jobs = (data.jobs ?? []).map((j) => ({ ...j, idempotencyKey: j.idempotencyKey ?? seedKey(j) }) as EnqueueSpec);
  const results = jobs.length ? await jl.insertJobs(jobs) : [];
  return { jobs: results.map((r) => ({ id: r.job.id, created: r.created })), definitionsCreated, tenantsCreated, created };
}
