import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { z } from 'zod';
import { apiSchemas as S } from '@jobline/producer';
import { openTestDb, waitFor, type TestDb } from './helpers/db.js';
import { startTestProducer, type TestProducer } from './fixtures/app-producer.js';

let db: TestDb;
let p: TestProducer;
beforeAll(async () => {
  db = await openTestDb();
  p = await startTestProducer(db, { maxBodyBytes: 16 * 1024 });
});
afterAll(async () => {
  await p?.close();
  await db?.close();
});

/** Every response body must match its declared schema exactly (strict: no undeclared fields). */
function conforms<T extends z.ZodType>(schema: T, body: unknown): z.output<T> {
  const r = schema.safeParse(body);
  if (!r.success) throw new Error(`response does not match its schema: ${JSON.stringify(r.error.issues)}\n${JSON.stringify(body)}`);
  return r.data;
}
/** A Prometheus text-format sample: metric name, optional labels, one value, end of line. */
const SAMPLE_LINE =
  /^[a-zA-Z_:][a-zA-Z0-9_:]*(\{(?:[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\]|\\.)*",?)*\})? (?:[+-]?(?:\d+\.?\d*(?:e[+-]?\d+)?|\.\d+(?:e[+-]?\d+)?)|[+-]Inf|NaN)$/;
const issuePaths = (body: any) => (body.error.issues as { path: string }[]).map((i) => i.path).sort();

describe('POST /v1/jobs', () => {
  it('creates a job: 201, Location, the job as declared', async () => {
    const r = await p.call('POST', '/v1/jobs', { body: { queue: 'mail', name: 'send', input: { to: 'x@example.com' }, priority: 3 } });
    expect(r.status).toBe(201);
    const job = conforms(S.Job, r.body);
    expect(job).toMatchObject({ queue: 'mail', name: 'send', state: 'available', priority: 3, input: { to: 'x@example.com' }, attempt: 0 });
    expect(r.headers.get('location')).toBe(`/v1/jobs/${job.id}`);
    expect((await db.jl.getJob(job.id)).name).toBe('send');
  });

  it('defaults the queue to "default" and schedules future runAt', async () => {
    const at = new Date(Date.now() + 3600_000).toISOString();
    const r = await p.call('POST', '/v1/jobs', { body: { name: 'later', runAt: at } });
    expect(r.status).toBe(201);
    expect(r.body).toMatchObject({ queue: 'default', state: 'scheduled', runAt: at });
  });

  it('returns the existing job with 200 for a repeated idempotency key', async () => {
    const spec = { queue: 'mail', name: 'send', idempotencyKey: 'order-42' };
    const a = await p.call('POST', '/v1/jobs', { body: spec });
    const b = await p.call('POST', '/v1/jobs', { body: { ...spec, input: { ignored: true } } });
    expect([a.status, b.status]).toEqual([201, 200]);
    expect(b.body.id).toBe(a.body.id);
    const rows = await db.sql(`select count(*)::int as n from "${db.schema}".jobs where idempotency_key = 'order-42'`);
    expect(rows[0].n).toBe(1);
  });

  it('400 names every bad field', async () => {
    const r = await p.call('POST', '/v1/jobs', {
      body: { queue: 'bad queue!', name: '', priority: 1.5, runAt: 'tomorrow', maxAttempts: 0, colour: 'red' },
    });
    expect(r.status).toBe(400);
    conforms(S.ErrorBody, r.body);
    expect(r.body.error.code).toBe('VALIDATION');
    expect(issuePaths(r.body)).toEqual(['', 'maxAttempts', 'name', 'priority', 'queue', 'runAt']);
    expect(r.body.error.issues.find((i: any) => i.path === '').message).toMatch(/colour/);
  });

  it('400 for a job with neither name nor definition, NUL characters, or unstorable input', async () => {
    const none = await p.call('POST', '/v1/jobs', { body: { queue: 'a' } });
    expect(none.status).toBe(400);
    expect(issuePaths(none.body)).toEqual(['name']);
    const nul = await p.call('POST', '/v1/jobs', { body: { name: 'a\u0000b', idempotencyKey: 'k\u0000' } });
    expect(nul.status).toBe(400);
    expect(issuePaths(nul.body)).toEqual(['idempotencyKey', 'name']);
    const input = await p.call('POST', '/v1/jobs', { body: { name: 'x', input: { s: 'nul \u0000 here' } } });
    expect(input.status).toBe(400);
    expect(issuePaths(input.body)).toEqual(['input']);
  });

  it('400 for malformed JSON, an empty body, or a body that is not an object', async () => {
    const bad = await p.call('POST', '/v1/jobs', { raw: '{"name": ', headers: { 'content-type': 'application/json' } });
    expect(bad.status).toBe(400);
    expect(bad.body.error.message).toMatch(/not valid JSON/);
    const empty = await p.call('POST', '/v1/jobs', { raw: '', headers: { 'content-type': 'application/json' } });
    expect(empty.status).toBe(400);
    const arr = await p.call('POST', '/v1/jobs', { body: [1, 2] });
    expect(arr.status).toBe(400);
    conforms(S.ErrorBody, arr.body);
  });

  it('415 for a body that is not JSON, and for a missing content type', async () => {
    const text = await p.call('POST', '/v1/jobs', { raw: 'name=x', headers: { 'content-type': 'application/x-www-form-urlencoded' } });
    expect(text.status).toBe(415);
    expect(text.body.error.code).toBe('UNSUPPORTED_MEDIA_TYPE');
    const none = await p.call('POST', '/v1/jobs', { raw: '{"name":"x"}' });
    // fetch sends text/plain for a string body
    expect(none.status).toBe(415);
    const charset = await p.call('POST', '/v1/jobs', {
      raw: '{"name":"x"}',
      headers: { 'content-type': 'application/json; charset=utf-8' },
    });
    expect(charset.status).toBe(201);
  });

  it('413 for a body over the limit, without reading it all', async () => {
    const big = { name: 'x', input: { blob: 'a'.repeat(20 * 1024) } };
    const r = await p.call('POST', '/v1/jobs', { body: big });
    expect(r.status).toBe(413);
    expect(r.body.error.code).toBe('PAYLOAD_TOO_LARGE');
    // chunked upload (no Content-Length) is cut off while reading
    const stream = new ReadableStream({
      start(c) {
        for (let i = 0; i < 40; i++) c.enqueue(new TextEncoder().encode(i === 0 ? '{"name":"x","input":"' : 'a'.repeat(1024)));
        c.close();
      },
    });
    const res = await fetch(p.url + '/v1/jobs', {
      method: 'POST',
      headers: { authorization: 'Bearer admin-token-0123456789abcdef', 'content-type': 'application/json' },
      body: stream,
      duplex: 'half',
    } as RequestInit);
    expect(res.status).toBe(413);
  });
});

describe('POST /v1/jobs/batch', () => {
  it('creates jobs in order, telling which already existed', async () => {
    await p.call('POST', '/v1/jobs', { body: { queue: 'b1', name: 'x', idempotencyKey: 'dup' } });
    const r = await p.call('POST', '/v1/jobs/batch', {
      body: {
        jobs: [
          { queue: 'b1', name: 'one' },
          { queue: 'b1', name: 'x', idempotencyKey: 'dup' },
          { queue: 'b1', name: 'three', input: [3] },
        ],
      },
    });
    expect(r.status).toBe(201);
    const out = conforms(S.BatchResult, r.body);
    expect(out.jobs.map((j) => [j.job.name, j.created])).toEqual([
      ['one', true],
      ['x', false],
      ['three', true],
    ]);
    const again = await p.call('POST', '/v1/jobs/batch', { body: { jobs: [{ queue: 'b1', name: 'x', idempotencyKey: 'dup' }] } });
    expect(again.status).toBe(200);
  });

  it('400 names bad fields by index and writes nothing', async () => {
    const before = await db.sql(`select count(*)::int as n from "${db.schema}".jobs where queue = 'b2'`);
    const r = await p.call('POST', '/v1/jobs/batch', {
      body: { jobs: [{ queue: 'b2', name: 'ok' }, { queue: 'b2', name: 'x', priority: 'high' }, { queue: 'b2' }] },
    });
    expect(r.status).toBe(400);
    expect(issuePaths(r.body)).toEqual(['jobs.1.priority', 'jobs.2.name']);
    const after = await db.sql(`select count(*)::int as n from "${db.schema}".jobs where queue = 'b2'`);
    expect(after[0].n).toBe(before[0].n);
    const empty = await p.call('POST', '/v1/jobs/batch', { body: { jobs: [] } });
    expect(empty.status).toBe(400);
    expect(issuePaths(empty.body)).toEqual(['jobs']);
  });
});

describe('reading jobs', () => {
  it('GET /v1/jobs/:id returns the job; unknown id 404; malformed id 400', async () => {
    const created = await p.call('POST', '/v1/jobs', { body: { queue: 'read', name: 'r' } });
    const r = await p.call('GET', `/v1/jobs/${created.body.id}`);
    expect(r.status).toBe(200);
    expect(conforms(S.Job, r.body)).toEqual(created.body);
    const missing = await p.call('GET', '/v1/jobs/999999999');
    expect(missing.status).toBe(404);
    expect(missing.body.error.code).toBe('NOT_FOUND');
    for (const bad of ['abc', '0', '-1', '1.5', '99999999999999999999']) {
      const b = await p.call('GET', `/v1/jobs/${bad}`);
      expect(b.status, bad).toBe(400);
      expect(issuePaths(b.body)).toEqual(['id']);
    }
  });

  it('GET /v1/jobs filters by queue and state and pages with a cursor', async () => {
    await p.call('POST', '/v1/jobs/batch', { body: { jobs: Array.from({ length: 5 }, (_, i) => ({ queue: 'page', name: `p${i}` })) } });
    const first = await p.call('GET', '/v1/jobs?queue=page&state=available&limit=2');
    expect(first.status).toBe(200);
    const page1 = conforms(S.JobPage, first.body);
    expect(page1.jobs.map((j) => j.name)).toEqual(['p4', 'p3']);
    const second = await p.call('GET', `/v1/jobs?queue=page&limit=2&cursor=${page1.nextCursor}`);
    const third = await p.call('GET', `/v1/jobs?queue=page&limit=2&cursor=${second.body.nextCursor}`);
    expect([...second.body.jobs, ...third.body.jobs].map((j: any) => j.name)).toEqual(['p2', 'p1', 'p0']);
    expect(third.body.nextCursor).toBeUndefined();
  });

  it('GET /v1/jobs rejects bad filters with 400 naming them', async () => {
    const r = await p.call('GET', '/v1/jobs?state=bogus&limit=0&queue=no%20spaces');
    expect(r.status).toBe(400);
    expect(issuePaths(r.body)).toEqual(['limit', 'queue', 'state']);
    const cursor = await p.call('GET', '/v1/jobs?cursor=not-a-cursor');
    expect(cursor.status).toBe(400);
    expect(issuePaths(cursor.body)).toEqual(['cursor']);
    const extra = await p.call('GET', '/v1/jobs?sort=asc');
    expect(extra.status).toBe(400);
  });

  it('GET /v1/jobs/:id/executions lists every attempt', async () => {
    const created = await p.call('POST', '/v1/jobs', { body: { queue: 'exec', name: 'flaky', maxAttempts: 3 } });
    const none = await p.call('GET', `/v1/jobs/${created.body.id}/executions`);
    expect(none.status).toBe(200);
    expect(none.body).toEqual({ executions: [] });
    const worker = db.jl.worker({
      queues: ['exec'],
      backoff: { baseMs: 1, maxMs: 1 },
      promoteIntervalMs: 20,
      handlers: {
        flaky: async (_input, ctx) => {
          if (ctx.attempt < 2) throw new Error('first attempt fails');
          return { ok: ctx.attempt };
        },
      },
    });
    await worker.start();
    try {
      await waitFor(async () => (await db.jl.getJob(created.body.id)).state === 'completed', 20_000, 'job completed');
    } finally {
      await worker.stop();
    }
    const r = await p.call('GET', `/v1/jobs/${created.body.id}/executions`);
    const list = conforms(S.ExecutionList, r.body);
    expect(list.executions.map((e) => [e.attempt, e.state])).toEqual([
      [1, 'failed'],
      [2, 'completed'],
    ]);
    expect(list.executions[0].error?.message).toBe('first attempt fails');
    expect(list.executions[1].output).toEqual({ ok: 2 });
    expect((await p.call('GET', '/v1/jobs/987654321/executions')).status).toBe(404);
  });
});

describe('POST /v1/jobs/:id/cancel', () => {
  it('cancels an unfinished job, 409 once finished, 404 when unknown', async () => {
    const created = await p.call('POST', '/v1/jobs', { body: { queue: 'c', name: 'x' } });
    const r = await p.call('POST', `/v1/jobs/${created.body.id}/cancel`);
    expect(r.status).toBe(200);
    expect(conforms(S.Job, r.body).state).toBe('cancelled');
    const again = await p.call('POST', `/v1/jobs/${created.body.id}/cancel`);
    expect(again.status).toBe(409);
    expect(again.body.error.code).toBe('CONFLICT');
    expect((await p.call('POST', '/v1/jobs/123456789/cancel')).status).toBe(404);
    // an empty JSON object body is accepted too
    const other = await p.call('POST', '/v1/jobs', { body: { queue: 'c', name: 'y' } });
    expect((await p.call('POST', `/v1/jobs/${other.body.id}/cancel`, { body: {} })).status).toBe(200);
  });
});

describe('definitions', () => {
  const resizeBase = () => ({
    name: 'resize',
    executor: 'process',
    command: 'node',
    args: ['resize.js'],
    env: { MODE: 'fast' },
    resources: { cpu: 0.5, memoryMb: 256 },
    inputSchema: {
      type: 'object',
      properties: { url: { type: 'string' }, width: { type: 'integer', minimum: 1 } },
      required: ['url', 'width'],
    },
    defaults: { queue: 'media', maxAttempts: 2, timeoutMs: 60_000 },
  });
  const resize = resizeBase();
  // resize@1 and resize@2 for the tests that read or use them, so each passes alone and in any order.
  beforeAll(async () => {
    expect((await p.call('POST', '/v1/definitions', { body: resize })).status).toBe(201);
    expect((await p.call('POST', '/v1/definitions', { body: { ...resize, args: ['resize.js', '--v2'] } })).status).toBe(201);
  });

  it('registers versions: 201, identical again 200, explicit existing version 409', async () => {
    const resize = { ...resizeBase(), name: 'resize-reg' };
    const a = await p.call('POST', '/v1/definitions', { body: resize });
    expect(a.status).toBe(201);
    expect(conforms(S.Definition, a.body)).toMatchObject({ name: 'resize-reg', version: 1, executor: 'process', env: { MODE: 'fast' } });
    const same = await p.call('POST', '/v1/definitions', { body: resize });
    expect(same.status).toBe(200);
    expect(same.body.version).toBe(1);
    const changed = await p.call('POST', '/v1/definitions', { body: { ...resize, args: ['resize.js', '--v2'] } });
    expect(changed.status).toBe(201);
    expect(changed.body.version).toBe(2);
    const dup = await p.call('POST', '/v1/definitions', { body: { ...resize, version: 1 } });
    expect(dup.status).toBe(409);
  });

  it('400 for bad definitions, naming the fields', async () => {
    const r = await p.call('POST', '/v1/definitions', {
      body: { name: 'has space', executor: 'process', env: { '1BAD': 'x' }, inputSchema: { type: 'nonsense' } },
    });
    expect(r.status).toBe(400);
    expect(issuePaths(r.body)).toEqual(['env.1BAD', 'name']);
    const schemaBad = await p.call('POST', '/v1/definitions', {
      body: { name: 'x', executor: 'process', command: 'true', inputSchema: { type: 'nonsense' } },
    });
    expect(schemaBad.status).toBe(400);
    expect(issuePaths(schemaBad.body)).toEqual(['inputSchema']);
    const noCommand = await p.call('POST', '/v1/definitions', { body: { name: 'x', executor: 'process' } });
    expect(issuePaths(noCommand.body)).toEqual(['command']);
  });

  it('lists and gets definitions', async () => {
    await p.call('POST', '/v1/definitions', { body: { name: 'greet', executor: 'handler' } });
    const list = await p.call('GET', '/v1/definitions');
    const defs = conforms(S.DefinitionList, list.body).definitions;
    // the latest version of each name, in name order (other tests of this file add their own names)
    const names = defs.map((d) => d.name);
    expect(names).toEqual([...new Set(names)].sort());
    expect(defs.filter((d) => ['greet', 'resize'].includes(d.name)).map((d) => `${d.name}@${d.version}`)).toEqual(['greet@1', 'resize@2']);
    const versions = await p.call('GET', '/v1/definitions?name=resize');
    expect(versions.body.definitions.map((d: any) => d.version)).toEqual([2, 1]);
    expect((await p.call('GET', '/v1/definitions/resize@1')).body.args).toEqual(['resize.js']);
    expect((await p.call('GET', '/v1/definitions/resize')).body.version).toBe(2);
    expect((await p.call('GET', '/v1/definitions/nope')).status).toBe(404);
    expect((await p.call('GET', '/v1/definitions/bad%20ref')).status).toBe(400);
  });

  it('enqueue by definition: defaults applied, version pinned, input validated against the schema', async () => {
    const ok = await p.call('POST', '/v1/jobs', { body: { definition: 'resize', input: { url: 'https://x/y.png', width: 100 } } });
    expect(ok.status).toBe(201);
    expect(ok.body).toMatchObject({ name: 'resize', queue: 'media', maxAttempts: 2, timeoutMs: 60_000, definition: 'resize@2' });
    const own = await p.call('POST', '/v1/jobs', {
      body: { definition: 'resize@1', queue: 'other', maxAttempts: 7, input: { url: 'u', width: 1 } },
    });
    expect(own.body).toMatchObject({ queue: 'other', maxAttempts: 7, definition: 'resize@1' });
    const bad = await p.call('POST', '/v1/jobs', { body: { definition: 'resize', input: { width: 0 } } });
    expect(bad.status).toBe(400);
    expect(issuePaths(bad.body)).toEqual(['input.url', 'input.width']);
    // `required` is enforced even for names the schema does not describe under `properties`
    await p.call('POST', '/v1/definitions', {
      body: { name: 'needs-n', executor: 'handler', inputSchema: { type: 'object', required: ['n'] } },
    });
    const noN = await p.call('POST', '/v1/jobs', { body: { definition: 'needs-n', input: {} } });
    expect(noN.status).toBe(400);
    expect(issuePaths(noN.body)).toEqual(['input.n']);
    expect((await p.call('POST', '/v1/jobs', { body: { definition: 'needs-n', input: { n: null } } })).status).toBe(201);
    const unknown = await p.call('POST', '/v1/jobs', { body: { definition: 'missing' } });
    expect(unknown.status).toBe(400);
    expect(issuePaths(unknown.body)).toEqual(['definition']);
    const batch = await p.call('POST', '/v1/jobs/batch', {
      body: {
        jobs: [
          { definition: 'resize', input: { url: 'u', width: 1 } },
          { definition: 'resize', input: {} },
        ],
      },
    });
    expect(batch.status).toBe(400);
    expect(issuePaths(batch.body)).toEqual(['jobs.1.input.url', 'jobs.1.input.width']);
  });
});

describe('queues, probes, metrics, routing', () => {
  it('GET /v1/queues counts jobs per state', async () => {
    await p.call('POST', '/v1/jobs/batch', {
      body: {
        jobs: [
          { queue: 'qc', name: 'a' },
          { queue: 'qc', name: 'b' },
        ],
      },
    });
    const one = await p.call('POST', '/v1/jobs', { body: { queue: 'qc', name: 'c' } });
    await p.call('POST', `/v1/jobs/${one.body.id}/cancel`);
    const r = await p.call('GET', '/v1/queues');
    const qc = conforms(S.QueueList, r.body).queues.find((q) => q.name === 'qc');
    expect(qc).toEqual({ name: 'qc', paused: false, counts: { available: 2, cancelled: 1 } });
  });

  it('/healthz and /readyz answer without a token', async () => {
    const h = await p.call('GET', '/healthz', { token: null });
    expect([h.status, h.body]).toEqual([200, { status: 'ok' }]);
    const r = await p.call('GET', '/readyz', { token: null });
    expect(r.status).toBe(200);
    expect(conforms(S.Ready, r.body)).toEqual({ status: 'ready', checks: { database: true, migrationsCurrent: true } });
  });

  it('/readyz is 503 when migrations are not applied', async () => {
    const empty = await openTestDb({ migrate: false });
    const q = await startTestProducer(empty);
    try {
      const r = await q.call('GET', '/readyz', { token: null });
      expect(r.status).toBe(503);
      expect(r.body).toEqual({ status: 'not ready', checks: { database: true, migrationsCurrent: false } });
    } finally {
      await q.close();
      await empty.close();
    }
  });

  it('/metrics is Prometheus text with request and enqueue counters', async () => {
    // its own traffic, so the counters below do not depend on earlier tests
    const first = await p.call('POST', '/v1/jobs', { body: { queue: 'metered', name: 'm', idempotencyKey: 'metered-1' } });
    expect((await p.call('POST', '/v1/jobs', { body: { queue: 'metered', name: 'm', idempotencyKey: 'metered-1' } })).status).toBe(200);
    expect((await p.call('GET', `/v1/jobs/${first.body.id}`)).status).toBe(200);
    const r = await p.call('GET', '/metrics', { token: null });
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    expect(r.text).toMatch(/^# TYPE jobline_http_requests_total counter$/m);
    expect(r.text).toMatch(/^jobline_http_requests_total\{method="POST",route="\/v1\/jobs",status="201"\} \d+$/m);
    expect(r.text).toMatch(/^jobline_jobs_enqueued_total\{queue="metered"\} 1$/m);
    expect(r.text).toMatch(/^jobline_jobs_enqueue_duplicates_total\{queue="metered"\} 1$/m);
    expect(r.text).toMatch(/^jobline_http_request_duration_seconds_bucket\{method="GET",route="\/v1\/jobs\/:id",le="\+Inf"\} \d+$/m);
    // every sample line is `name{labels} value` and nothing else (the value group is anchored at both ends)
    const lines = r.text.split('\n').filter((l) => l && !l.startsWith('#'));
    expect(lines.length).toBeGreaterThan(0);
    for (const line of lines) expect(line).toMatch(SAMPLE_LINE);
  });

  it('response validation (on in these tests) turns a response that drifts from its schema into a 500', async () => {
    const created = await p.call('POST', '/v1/jobs', { body: { queue: 'drift', name: 'x' } });
    const original = db.jl.getJob;
    db.jl.getJob = async (id: number) => ({ ...(await original.call(db.jl, id)), undeclared: true });
    try {
      const r = await p.call('GET', `/v1/jobs/${created.body.id}`);
      expect(r.status).toBe(500);
      expect(r.body.error.message).toMatch(/GET \/v1\/jobs\/:id \(200\) does not match its schema.*undeclared/);
    } finally {
      db.jl.getJob = original;
    }
    expect((await p.call('GET', `/v1/jobs/${created.body.id}`)).status).toBe(200);
  });

  it('404 for unknown paths, 405 with Allow for a wrong method', async () => {
    const r = await p.call('GET', '/v1/nothing');
    expect(r.status).toBe(404);
    conforms(S.ErrorBody, r.body);
    const m = await p.call('DELETE', '/v1/jobs/1');
    expect(m.status).toBe(405);
    expect(m.headers.get('allow')).toBe('GET');
  });
});
