import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiTokensSchema, authenticate } from '@jobline/producer';
import { openTestDb, type TestDb } from './helpers/db.js';
import { TOKENS, startTestProducer, type TestProducer } from './fixtures/app-producer.js';

let db: TestDb;
let p: TestProducer;
let jobA: number;
let jobB: number;
beforeAll(async () => {
  db = await openTestDb();
  p = await startTestProducer(db);
  jobA = (await db.jl.enqueue({ queue: 'a', name: 'x' })).id;
  jobB = (await db.jl.enqueue({ queue: 'b', name: 'x' })).id;
  await db.jl.createDefinition({ name: 'in-b', executor: 'handler', defaults: { queue: 'b' } });
});
afterAll(async () => {
  await p?.close();
  await db?.close();
});

describe('authentication', () => {
  it('401 without a token, with a malformed header, or with an unknown token', async () => {
    for (const headers of [
      {},
      { authorization: 'Basic abc' },
      { authorization: 'Bearer wrong-token-0123456789' },
      { authorization: `Bearer ${TOKENS.admin}x` },
    ] as Record<string, string>[]) {
      const r = await p.call('GET', '/v1/queues', { token: null, headers });
      expect(r.status, JSON.stringify(headers)).toBe(401);
      expect(r.body.error.code).toBe('UNAUTHORIZED');
      expect(r.headers.get('www-authenticate')).toMatch(/^Bearer/);
    }
  });

  it('accepts a token configured by its SHA-256 only', async () => {
    const r = await p.call('GET', `/v1/jobs/${jobA}`, { token: TOKENS.hashed });
    expect(r.status).toBe(200);
  });

  it('probes, metrics and the OpenAPI document need no token', async () => {
    for (const path of ['/healthz', '/readyz', '/metrics', '/openapi.json']) {
      expect((await p.call('GET', path, { token: null })).status, path).toBe(200);
    }
  });

  it('matches tokens by hash without short-circuiting on the first configured token', () => {
    const tokens = ApiTokensSchema.parse([
      { name: 'one', token: 'first-token-0123456789', queues: ['*'], scopes: ['read'] },
      { name: 'two', token: 'second-token-0123456789', queues: ['q'], scopes: ['write'] },
    ]);
    // Count the configured hashes each call compares against: every one, whichever matches (or none).
    const compared: string[] = [];
    const watched = tokens.map((t) => {
      const { hash, ...rest } = t;
      return Object.defineProperty({ ...rest }, 'hash', {
        enumerable: true,
        get: () => (compared.push(t.name), hash),
      }) as typeof t;
    });
    for (const [header, name] of [
      ['Bearer first-token-0123456789', 'one'],
      ['Bearer second-token-0123456789', 'two'],
      ['Bearer unknown-token-0123456789', undefined],
    ] as const) {
      compared.length = 0;
      expect(authenticate(watched, header)?.name).toBe(name);
      expect(compared, header).toEqual(['one', 'two']);
    }
    expect(authenticate(tokens, 'Bearer second-token-0123456789')?.name).toBe('two');
    expect(authenticate(tokens, 'bearer first-token-0123456789')?.name).toBe('one');
    expect(authenticate(tokens, 'Bearer first-token-012345678')).toBeUndefined();
    expect(authenticate(tokens, undefined)).toBeUndefined();
  });

  it('rejects token configs that are unsafe or ambiguous', () => {
    const bad = ApiTokensSchema.safeParse([
      { token: 'short', queues: ['*'], scopes: ['read'] },
      { token: 'long-enough-token-123456', sha256: 'ab'.repeat(32), queues: ['*'], scopes: ['read'] },
      { token: 'long-enough-token-123456', queues: [], scopes: ['delete'] },
    ]);
    expect(bad.success).toBe(false);
    const paths = bad.error!.issues.map((i) => i.path.join('.')).sort();
    expect(paths).toEqual(['0.token', '1', '2.queues', '2.scopes.0']);
  });
});

describe('scopes and queues', () => {
  it('a read-only token can read but not write (403)', async () => {
    expect((await p.call('GET', `/v1/jobs/${jobB}`, { token: TOKENS.reader })).status).toBe(200);
    expect((await p.call('GET', '/v1/jobs', { token: TOKENS.reader })).status).toBe(200);
    const w = await p.call('POST', '/v1/jobs', { token: TOKENS.reader, body: { queue: 'a', name: 'x' } });
    expect(w.status).toBe(403);
    expect(w.body.error.message).toMatch(/"write" scope/);
    expect((await p.call('POST', `/v1/jobs/${jobA}/cancel`, { token: TOKENS.reader })).status).toBe(403);
  });

  it('a queue-scoped token may only touch its queues', async () => {
    const t = TOKENS.writerA;
    expect((await p.call('POST', '/v1/jobs', { token: t, body: { queue: 'a', name: 'ok' } })).status).toBe(201);
    const other = await p.call('POST', '/v1/jobs', { token: t, body: { queue: 'b', name: 'no' } });
    expect(other.status).toBe(403);
    expect(other.body.error.message).toMatch(/queue "b"/);
    // the default queue counts as a queue too
    expect((await p.call('POST', '/v1/jobs', { token: t, body: { name: 'no' } })).status).toBe(403);
    // a definition whose default queue is out of scope
    expect((await p.call('POST', '/v1/jobs', { token: t, body: { definition: 'in-b' } })).status).toBe(403);
    // one out-of-scope job fails the whole batch, and nothing is written
    const batch = await p.call('POST', '/v1/jobs/batch', {
      token: t,
      body: {
        jobs: [
          { queue: 'a', name: 'x' },
          { queue: 'b', name: 'y' },
        ],
      },
    });
    expect(batch.status).toBe(403);
    expect((await db.sql(`select count(*)::int as n from "${db.schema}".jobs where queue = 'b' and name = 'y'`))[0].n).toBe(0);
    expect((await p.call('GET', `/v1/jobs/${jobA}`, { token: t })).status).toBe(200);
    expect((await p.call('GET', `/v1/jobs/${jobB}`, { token: t })).status).toBe(403);
    expect((await p.call('GET', `/v1/jobs/${jobB}/executions`, { token: t })).status).toBe(403);
    expect((await p.call('POST', `/v1/jobs/${jobB}/cancel`, { token: t })).status).toBe(403);
    expect((await db.jl.getJob(jobB)).state).toBe('available');
    // listing needs an explicit queue in scope
    expect((await p.call('GET', '/v1/jobs', { token: t })).status).toBe(403);
    expect((await p.call('GET', '/v1/jobs?queue=b', { token: t })).status).toBe(403);
    expect((await p.call('GET', '/v1/jobs?queue=a', { token: t })).status).toBe(200);
    // the queue list shows only its queues
    const queues = await p.call('GET', '/v1/queues', { token: t });
    expect(queues.body.queues.map((q: any) => q.name)).toEqual(['a']);
  });

  it('registering definitions needs the admin scope', async () => {
    const def = { name: 'tool', executor: 'process', command: 'true' };
    expect((await p.call('POST', '/v1/definitions', { token: TOKENS.writerA, body: def })).status).toBe(403);
    expect((await p.call('GET', '/v1/definitions', { token: TOKENS.writerA })).status).toBe(200);
    expect((await p.call('POST', '/v1/definitions', { token: TOKENS.admin, body: def })).status).toBe(201);
  });

  it('auth checks come before body validation, so strangers learn nothing about the schema', async () => {
    const r = await p.call('POST', '/v1/jobs', { token: null, body: { nonsense: true } });
    expect(r.status).toBe(401);
  });
});

describe('auth off', () => {
  it('serves everything without a token', async () => {
    const open = await startTestProducer(db, { auth: false });
    try {
      expect((await open.call('POST', '/v1/jobs', { token: null, body: { queue: 'z', name: 'x' } })).status).toBe(201);
      expect((await open.call('GET', '/v1/queues', { token: null })).status).toBe(200);
    } finally {
      await open.close();
    }
  });
});
