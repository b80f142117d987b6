/** `jobline quota …` and the enqueue policy flags, run as the built binary (issue 15). */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openTestDb, type TestDb } from './helpers/db.js';
import { runJobline } from './helpers/cli.js';

let db: TestDb;
beforeAll(async () => {
  db = await openTestDb();
});
afterAll(() => db.close());

const jobline = (args: string[]) => runJobline(db, args);

describe('jobline quota', () => {
  it('sets, tops up, shows and lists the ledger', async () => {
    const set = await jobline(['quota', 'set', 'tenant-7', '10', '--note', 'trial']);
    expect(set.code, set.stderr).toBe(0);
    expect(set.stdout).toBe('tenant-7: 10 attempts\n');
    expect((await jobline(['quota', 'top-up', 'tenant-7', '5'])).stdout).toBe('tenant-7: 15 attempts\n');
    const show = await jobline(['quota', 'show', 'tenant-7', '--json']);
    expect(JSON.parse(show.stdout)).toMatchObject({ group: 'tenant-7', balance: 15, held: false, unit: 'attempts' });
    const ledger = await jobline(['quota', 'ledger', 'tenant-7']);
    expect(ledger.stdout).toMatch(/top_up\s+5\s+15/);
    expect(ledger.stdout).toMatch(/set\s+10\s+10.*trial/);
    expect((await jobline(['quota', 'set', 'tenant-7', '0'])).stdout).toMatch(/held/);
  });

  it('delete removes the wallet and releases a held tenant; deleting it again exits 1', async () => {
    await jobline(['quota', 'set', 'tenant-del', '0']);
    const del = await jobline(['quota', 'delete', 'tenant-del']);
    expect(del.code, del.stderr).toBe(0);
    expect(del.stdout).toBe('tenant-del: quota deleted (was 0 attempts); its jobs are no longer metered (the ledger stays)\n');
    expect(await db.q(`select held_reason from $S.job_groups where key = 'tenant-del'`)).toEqual([{ held_reason: null }]);
    const again = await jobline(['quota', 'delete', 'tenant-del', '--json']);
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/tenant-del/);
    expect((await jobline(['quota', 'delete', 'tenant-del', 'extra'])).code).toBe(2);
  });

  it('bad input names the field, exits 2 (usage) or 1 (unknown tenant), and writes nothing', async () => {
    await jobline(['quota', 'set', 'tenant-8', '3']);
    const before = await db.q(`select count(*)::int as n from $S.wallet_transactions`);
    // A negative number is given after `--` (node:util.parseArgs reads -5 as a flag).
    const neg = await jobline(['quota', 'top-up', 'tenant-8', '--', '-5']);
    expect(neg.code).toBe(2);
    expect(neg.stderr).toMatch(/amount: amount must be at least 1/);
    const word = await jobline(['quota', 'top-up', 'tenant-8', 'ten']);
    expect(word.code).toBe(2);
    expect(word.stderr).toMatch(/amount must be a whole number/);
    const unit = await jobline(['quota', 'set', 'tenant-8', '5', '--unit', 'euros']);
    expect(unit.code).toBe(2);
    expect(unit.stderr).toMatch(/unit/);
    const unknown = await jobline(['quota', 'top-up', 'nobody', '5']);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toMatch(/nobody/);
    expect((await jobline(['quota', 'frobnicate', 'x'])).code).toBe(2);
    expect(await db.q(`select count(*)::int as n from $S.wallet_transactions`)).toEqual(before);
  });
});

describe('jobline enqueue policy flags', () => {
  it('--singleton-key, --throttle and --group; a bad window names the field', async () => {
    const a = await jobline(['enqueue', 'cq', 'x', '--singleton-key', 'only', '--group', 'tenant-7', '--json']);
    expect(a.code, a.stderr).toBe(0);
    const ja = JSON.parse(a.stdout);
    expect(ja).toMatchObject({ created: true, singletonKey: 'only', group: 'tenant-7' });
    const b = await jobline(['enqueue', 'cq', 'x', '--singleton-key', 'only']);
    expect(b.stdout).toMatch(new RegExp(`already existed \\(singletonKey\\): job ${ja.id} `));
    const t1 = await jobline(['enqueue', 'cq', 'y', '--throttle', 'k:with:colons:60000', '--json']);
    const t2 = await jobline(['enqueue', 'cq', 'y', '--throttle', 'k:with:colons:60000', '--json']);
    expect(JSON.parse(t2.stdout)).toMatchObject({ id: JSON.parse(t1.stdout).id, created: false, policy: 'throttle' });
    const d = await jobline(['enqueue', 'cq', 'z', '--debounce', 'k:1000', '--json']);
    expect(JSON.parse(d.stdout)).toMatchObject({ state: 'scheduled', created: true });
    const zero = await jobline(['enqueue', 'cq', 'y', '--throttle', 'k:0']);
    expect(zero.code).toBe(2);
    expect(zero.stderr).toMatch(/throttle\.periodMs/);
    const shape = await jobline(['enqueue', 'cq', 'y', '--debounce', 'k']);
    expect(shape.code).toBe(2);
    expect(shape.stderr).toMatch(/--debounce takes KEY:MS/);
  });
});
