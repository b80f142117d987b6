import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openTestDb, type TestDb } from './helpers/db.js';
import { startTestProducer, type TestProducer } from './fixtures/app-producer.js';

let db: TestDb;
let p: TestProducer;
beforeAll(async () => {
  db = await openTestDb();
  p = await startTestProducer(db, { maxBodyBytes: 32 * 1024 });
});
afterAll(async () => {
  await p?.close();
  await db?.close();
});

// Values that tend to break things: huge and fractional numbers, NUL and lone surrogates,
// dates that are not dates, deep nesting, prototype keys.
const nasty = fc.oneof(
  fc.jsonValue({ maxDepth: 4 }),
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.constantFrom('\u0000', '\ud800', 'a\udfffb', '9999-99-99T99:99:99Z', '2024-01-01T00:00:00Z', '__proto__', '', ' '),
  fc.constantFrom(1e308, -0, 2 ** 53, -(2 ** 31) - 1, 0.5, 1_000_001, 7 * 24 * 3600 * 1000 + 1),
  fc.integer(),
);
const key = fc.constantFrom('queue', 'name', 'input', 'priority', 'runAt', 'maxAttempts', 'timeoutMs', 'idempotencyKey', 'definition', 'traceparent', '__proto__', 'constructor', 'x');
// Mostly plausible specs (to get past the first check), some arbitrary JSON, some broken text.
const body = fc.oneof(
  { weight: 6, arbitrary: fc.dictionary(key, nasty, { maxKeys: 8 }).map((o) => JSON.stringify({ name: 'n', ...o })) },
  { weight: 2, arbitrary: fc.jsonValue().map((v) => JSON.stringify(v)) },
  { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 200 }) },
  { weight: 1, arbitrary: fc.dictionary(key, nasty).map((o) => JSON.stringify(o).slice(0, -1)) },
);

describe('POST /v1/jobs with random bodies', () => {
  it('answers 1,000 random bodies with 2xx or 4xx only, never a 5xx', async () => {
    const statuses = new Map<number, number>();
    await fc.assert(
      fc.asyncProperty(body, async (raw) => {
        const r = await p.call('POST', '/v1/jobs', { raw, headers: { 'content-type': 'application/json' } });
        statuses.set(r.status, (statuses.get(r.status) ?? 0) + 1);
        expect(r.status === 200 || r.status === 201 || (r.status >= 400 && r.status < 500), `${r.status} for ${raw}: ${r.text}`).toBe(true);
        if (r.status >= 400) expect(r.body.error.code).toEqual(expect.any(String));
      }),
      { numRuns: 1000 },
    );
    // the generator really reached both outcomes
    expect((statuses.get(201) ?? 0) + (statuses.get(200) ?? 0)).toBeGreaterThan(50);
    expect(statuses.get(400) ?? 0).toBeGreaterThan(50);
    // and the server is still healthy
    expect((await p.call('GET', '/healthz', { token: null })).status).toBe(200);
  });
});
