/** HTTP surfaces of issue 15: quota routes (admin writes), enqueue policies, the held-groups gauge, OpenAPI. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openTestDb, type TestDb } from './helpers/db.js';
import { TOKENS, startTestProducer, type TestProducer } from './fixtures/app-producer.js';

let db: TestDb;
let p: TestProducer;
beforeAll(async () => {
  db = await openTestDb();
  p = await startTestProducer(db);
});
afterAll(async () => {
  await p?.close();
  await db?.close();
});

describe('quota routes', () => {
  it('set, top up, read balance and ledger; a group key with any characters travels percent-encoded', async () => {
    const g = encodeURIComponent('tenant/42 ü');
    const set = await p.call('POST', `/v1/groups/${g}/quota`, { body: { balance: 2, unit: 'attempts', note: 'trial' } });
    expect(set.status).toBe(200);
    expect(set.body).toMatchObject({ group: 'tenant/42 ü', unit: 'attempts', balance: 2, held: false });
    const top = await p.call('POST', `/v1/groups/${g}/quota/top-up`, { body: { amount: 3 } });
    expect(top.body).toMatchObject({ balance: 5 });
    expect((await p.call('GET', `/v1/groups/${g}/quota`, { token: TOKENS.reader })).body).toMatchObject({ balance: 5, held: false });
    const ledger = await p.call('GET', `/v1/groups/${g}/ledger?limit=1`, { token: TOKENS.reader });
    expect(ledger.status).toBe(200);
    expect(ledger.body.entries).toEqual([expect.objectContaining({ kind: 'top_up', amount: 3, balanceAfter: 5 })]);
    const older = await p.call('GET', `/v1/groups/${g}/ledger?before=${ledger.body.nextCursor}`);
    expect(older.body.entries.map((e: { kind: string }) => e.kind)).toEqual(['set']);
  });

  it('writes need the admin scope; bad input is a 400 naming the field; unknown tenants are 404; nothing is written', async () => {
    await p.call('POST', '/v1/groups/g1/quota', { body: { balance: 1 } });
    const before = await db.q(`select count(*)::int as n from $S.wallet_transactions`);
    expect((await p.call('POST', '/v1/groups/g1/quota/top-up', { token: TOKENS.writerA, body: { amount: 1 } })).status).toBe(403);
    expect((await p.call('POST', '/v1/groups/g1/quota', { token: TOKENS.reader, body: { balance: 9 } })).status).toBe(403);
    const cases: [string, unknown, string][] = [
      ['/v1/groups/g1/quota/top-up', { amount: -5 }, 'amount'],
      ['/v1/groups/g1/quota/top-up', { amount: 0 }, 'amount'],
      ['/v1/groups/g1/quota/top-up', { amount: 'ten' }, 'amount'],
      ['/v1/groups/g1/quota', { balance: -1 }, 'balance'],
      ['/v1/groups/g1/quota', { balance: 1, unit: 'euros' }, 'unit'],
      ['/v1/groups/g1/quota', { balance: 1, extra: true }, ''],
    ];
    for (const [path, body, field] of cases) {
      const r = await p.call('POST', path, { body });
      expect(r.status, JSON.stringify(body)).toBe(400);
      expect(r.body.error.issues.map((i: { path: string }) => i.path)).toContain(field);
    }
    const unknown = await p.call('POST', '/v1/groups/nobody/quota/top-up', { body: { amount: 5 } });
    expect(unknown.status).toBe(404);
    expect((await p.call('GET', '/v1/groups/nobody/quota')).status).toBe(404);
    expect((await p.call('GET', '/v1/groups/nobody/ledger')).status).toBe(404);
    expect((await p.call('GET', '/v1/groups/g1/ledger?limit=0')).status).toBe(400);
    expect(await db.q(`select count(*)::int as n from $S.wallet_transactions`)).toEqual(before);
    expect((await db.jl.getBalance('g1')).balance).toBe(1);
  });

  it('DELETE /v1/groups/:group/quota deletes the wallet (admin only) and releases the group; 404 after', async () => {
    const g = encodeURIComponent('tenant/del ü');
    await p.call('POST', `/v1/groups/${g}/quota`, { body: { balance: 0 } });
    expect((await p.call('GET', `/v1/groups/${g}/quota`)).body).toMatchObject({ held: true });
    expect((await p.call('DELETE', `/v1/groups/${g}/quota`, { token: TOKENS.writerA })).status).toBe(403);
    expect((await p.call('DELETE', `/v1/groups/${g}/quota`, { token: TOKENS.reader })).status).toBe(403);
    const del = await p.call('DELETE', `/v1/groups/${g}/quota`);
    expect(del.status).toBe(200);
    expect(del.body).toMatchObject({ group: 'tenant/del ü', balance: 0, unit: 'attempts', held: false });
    expect(await db.q(`select held_reason from $S.job_groups where key = $1`, ['tenant/del ü'])).toEqual([{ held_reason: null }]);
    expect((await p.call('GET', `/v1/groups/${g}/quota`)).status).toBe(404);
    expect((await p.call('DELETE', `/v1/groups/${g}/quota`)).status).toBe(404);
    // The ledger outlives the wallet, closed by the `deleted` entry.
    const ledger = await p.call('GET', `/v1/groups/${g}/ledger`);
    expect(ledger.status).toBe(200);
    expect(ledger.body.entries.map((e: { kind: string }) => e.kind)).toEqual(['deleted', 'set']);
    const openapi = await p.call('GET', '/openapi.json', { token: null });
    expect(openapi.body.paths['/v1/groups/{group}/quota'].delete.operationId).toBe('deleteQuota');
  });

  it('/metrics shows the held groups', async () => {
    await p.call('POST', '/v1/groups/held-1/quota', { body: { balance: 0 } });
    const m = await p.call('GET', '/metrics', { token: null });
    const n = Number(/^jobline_groups_held\{reason="quota"\} (\d+)$/m.exec(m.text)?.[1]);
    expect(n).toBe((await db.q(`select count(*)::int as n from $S.job_groups where held_reason = 'quota'`))[0].n);
    expect(n).toBeGreaterThanOrEqual(1);
  });
});

describe('enqueue policies over HTTP', () => {
  it('POST /v1/jobs: a repeated singletonKey answers 200 with the existing job and the policy header', async () => {
    const a = await p.call('POST', '/v1/jobs', { body: { queue: 'hq', name: 'x', singletonKey: 'one', group: 'tenant-9' } });
    expect(a.status).toBe(201);
    expect(a.body).toMatchObject({ singletonKey: 'one', group: 'tenant-9' });
    const b = await p.call('POST', '/v1/jobs', { body: { queue: 'hq', name: 'x', singletonKey: 'one' } });
    expect(b.status).toBe(200);
    expect(b.body.id).toBe(a.body.id);
    expect(b.headers.get('jobline-enqueue-policy')).toBe('singletonKey');
  });

  it('POST /v1/jobs/batch reports the policy per job; throttle periodMs 0 is a 400 naming the field', async () => {
    const r = await p.call('POST', '/v1/jobs/batch', {
      body: {
        jobs: [
          { queue: 'hq', name: 't', throttle: { key: 'k', periodMs: 60_000 } },
          { queue: 'hq', name: 't', throttle: { key: 'k', periodMs: 60_000 } },
        ],
      },
    });
    expect(r.status).toBe(201);
    expect(r.body.jobs.map((j: { created: boolean; policy?: string }) => [j.created, j.policy])).toEqual([
      [true, undefined],
      [false, 'throttle'],
    ]);
    const bad = await p.call('POST', '/v1/jobs', { body: { queue: 'hq', name: 't', throttle: { key: 'k', periodMs: 0 } } });
    expect(bad.status).toBe(400);
    expect(bad.body.error.issues.map((i: { path: string }) => i.path)).toEqual(['throttle.periodMs']);
    const badBatch = await p.call('POST', '/v1/jobs/batch', {
      body: { jobs: [{ queue: 'hq', name: 't', debounce: { key: 'k', periodMs: 0 } }] },
    });
    expect(badBatch.body.error.issues.map((i: { path: string }) => i.path)).toEqual(['jobs.0.debounce.periodMs']);
  });

  it('OpenAPI documents the quota routes and the policy fields', async () => {
    const doc = (await p.call('GET', '/openapi.json', { token: null })).body;
    expect(Object.keys(doc.paths)).toEqual(
      expect.arrayContaining(['/v1/groups/{group}/quota', '/v1/groups/{group}/quota/top-up', '/v1/groups/{group}/ledger']),
    );
    const create = JSON.stringify(doc.components.schemas.JobCreate);
    for (const f of ['singletonKey', 'throttle', 'debounce', 'periodMs']) expect(create).toContain(f);
  });
});
