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
const key = fc.constantFrom(
  'queue',
  'name',
  'input',
  'priority',
  'runAt',
  'maxAttempts',
  'timeoutMs',
  'idempotencyKey',
  'definition',
  'traceparent',
  '__proto__',
  'constructor',
  'x',
);
// Mostly plausible specs (to get past the first check), some arbitrary JSON, some broken text.
// Valid specs with arbitrary JSON inputs, so that stored-and-read-back is exercised as often as refusal.
const valid = fc
  .record(
    {
      queue: fc.stringMatching(/^[a-z][a-z0-9_-]{0,20}$/),
      name: fc.string({ minLength: 1, maxLength: 30 }),
      input: fc.jsonValue({ maxDepth: 4 }),
      priority: fc.integer({ min: -100, max: 100 }),
    },
    { requiredKeys: ['name'] },
  )
  .map((o) => JSON.stringify(o));
const body = fc.oneof(
  { weight: 4, arbitrary: valid },
  { weight: 6, arbitrary: fc.dictionary(key, nasty, { maxKeys: 8 }).map((o) => JSON.stringify({ name: 'n', ...o })) },
  { weight: 2, arbitrary: fc.jsonValue().map((v) => JSON.stringify(v)) },
  { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 200 }) },
  { weight: 1, arbitrary: fc.dictionary(key, nasty).map((o) => JSON.stringify(o).slice(0, -1)) },
);

/** Fields an issue may name although the body lacks them: a job needs a name or a definition. */
const REQUIRED = ['name', 'definition'];

/** The parsed body when it is a JSON object (what a field can be named in), else undefined. */
function parsedObject(raw: string): Record<string, unknown> | undefined {
  try {
    const v = JSON.parse(raw);
    return v && typeof v === 'object' && !Array.isArray(v) ? v : undefined;
  } catch {
    return undefined;
  }
}

describe('POST /v1/jobs with random bodies', () => {
  it('1,000 random bodies: stored and read back equal, or a 4xx naming the field; never a 5xx; other jobs untouched', async () => {
    const sentinel = (await p.call('POST', '/v1/jobs', { body: { queue: 'sentinel', name: 'keep', input: { keep: [1, 'two', null] } } }))
      .body;
    const statuses = new Map<number, number>();
    let storedInputs = 0;
    await fc.assert(
      fc.asyncProperty(body, async (raw) => {
        const r = await p.call('POST', '/v1/jobs', { raw, headers: { 'content-type': 'application/json' } });
        statuses.set(r.status, (statuses.get(r.status) ?? 0) + 1);
        expect(r.status === 200 || r.status === 201 || (r.status >= 400 && r.status < 500), `${r.status} for ${raw}: ${r.text}`).toBe(true);
        const sent = parsedObject(raw);
        if (r.status === 201) {
          // Stored: read back through the API, the values are those sent (jsonb keeps values, not key order).
          const back = await p.call('GET', `/v1/jobs/${r.body.id}`);
          expect(back.status).toBe(200);
          expect(back.body.name, raw).toBe(sent!.name);
          expect(back.body.queue, raw).toBe(sent!.queue ?? 'default');
          if ('input' in sent!) {
            expect(back.body.input, raw).toEqual(sent!.input);
            if (sent!.input !== null && typeof sent!.input === 'object') storedInputs++;
          } else expect(back.body.input ?? null, raw).toBeNull();
        } else if (r.status === 200) {
          // An existing job for a repeated idempotency key: that job, unchanged.
          expect(r.body.idempotencyKey, raw).toBe(sent!.idempotencyKey);
        } else {
          expect(r.body.error.code, raw).toEqual(expect.any(String));
          expect(r.body.error.message, raw).not.toBe('');
          if (r.body.error.code === 'VALIDATION') {
            // Each issue names a field of the body (its first path segment), or the body as a whole.
            const issues = r.body.error.issues as { path: string; message: string }[];
            expect(issues.length, raw).toBeGreaterThan(0);
            for (const i of issues) {
              expect(i.message, raw).not.toBe('');
              const field = i.path.split('.')[0];
              if (i.path !== '')
                expect(REQUIRED.includes(field) || (sent !== undefined && Object.hasOwn(sent, field)), `${i.path} for ${raw}`).toBe(true);
            }
          }
        }
      }),
      { numRuns: 1000 },
    );
    // the generator really reached both outcomes
    expect((statuses.get(201) ?? 0) + (statuses.get(200) ?? 0)).toBeGreaterThan(50);
    expect(statuses.get(400) ?? 0).toBeGreaterThan(50);
    expect(storedInputs).toBeGreaterThan(50); // objects and arrays stored and read back
    // a job that was there before is exactly as it was, and the server is still healthy
    expect((await p.call('GET', `/v1/jobs/${sentinel.id}`)).body).toEqual(sentinel);
    expect(await db.sql(`select count(*)::int as n from "${db.schema}".jobs where queue = 'sentinel'`)).toEqual([{ n: 1 }]);
    expect((await p.call('GET', '/healthz', { token: null })).status).toBe(200);
  });
});
