/** seed() with tenants and wallets (issue 15): a second run changes nothing, not even the ledger. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEV_SEED, seed } from '@jobline/testing';
import { openTestDb, type TestDb } from './helpers/db.js';

let db: TestDb;
beforeAll(async () => {
  db = await openTestDb();
});
afterAll(() => db.close());

const snapshot = () =>
  db.q(`select (select json_agg(w order by key) from (select key, unit, balance, updated_at from $S.wallets) w) as wallets,
               (select json_agg(t order by id) from $S.wallet_transactions t) as ledger,
               (select json_agg(g order by key) from $S.job_groups g) as groups,
               (select count(*)::int from $S.jobs) as jobs,
               (select count(*)::int from $S.events) as events`);

describe('seed tenants', () => {
  it('DEV_SEED creates three tenants with wallets (one held) and their jobs; running it again changes nothing', async () => {
    const first = await seed(db.jl, DEV_SEED);
    expect(first.tenantsCreated).toBe(3);
    expect(first.jobs.every((j) => j.created)).toBe(true);
    expect(await db.jl.getBalance('acme')).toMatchObject({ balance: 10_000, unit: 'attempts', held: false });
    expect(await db.jl.getBalance('globex')).toMatchObject({ unit: 'run_ms', held: false });
    expect(await db.jl.getBalance('initech')).toMatchObject({ balance: 0, held: true });
    expect((await db.jl.getJob(first.jobs[0].id)).group).toBe('acme');
    const once = await snapshot();
    const second = await seed(db.jl, DEV_SEED);
    expect(second.tenantsCreated).toBe(0);
    expect(second.jobs).toEqual(first.jobs.map((j) => ({ ...j, created: false })));
    expect(await snapshot()).toEqual(once);
  });

  it('does not reset a wallet that has been used since', async () => {
    await db.jl.topUp('acme', 5);
    await seed(db.jl, { tenants: { acme: { balance: 10_000 } } });
    expect((await db.jl.getBalance('acme')).balance).toBe(10_005);
  });
});
