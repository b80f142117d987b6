import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiSchemas as S } from '@jobline/producer';
import { openTestDb, waitFor, type TestDb } from './helpers/db.js';
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

const issuePaths = (body: any) => (body.error.issues as { path: string }[]).map((i) => i.path).sort();

const etl = (extra: object = {}) => ({
  name: 'etl',
  nodes: [
    { key: 'extract', queue: 'a', name: 'extract' },
    { key: 'transform', queue: 'a', name: 'transform', dependsOn: ['extract'], input: { rows: { $ref: 'extract.output.rows' } } },
    { key: 'load', queue: 'a', name: 'load', dependsOn: ['transform'] },
  ],
  ...extra,
});

describe('DAG endpoints', () => {
  it('POST /v1/dags submits a run: 201, roots available, the rest waiting; GET shows it', async () => {
    const r = await p.call('POST', '/v1/dags', { body: etl() });
    expect(r.status).toBe(201);
    const run = S.DagRun.parse(r.body);
    expect(r.headers.get('location')).toBe(`/v1/dags/${run.id}`);
    expect(run).toMatchObject({ name: 'etl', state: 'running', failurePolicy: 'fail_fast', nodeCount: 3, nodesDone: 0 });
    expect(Object.fromEntries(run.nodes.map((n) => [n.key, n.state]))).toEqual({
      extract: 'available',
      transform: 'waiting',
      load: 'waiting',
    });
    expect(run.edges).toEqual([
      { from: 'extract', to: 'transform' },
      { from: 'transform', to: 'load' },
    ]);
    const g = await p.call('GET', `/v1/dags/${run.id}`);
    expect(g.status).toBe(200);
    expect(S.DagRun.parse(g.body).id).toBe(run.id);
  });

  it('runs to success with a worker, outputs flowing to children', async () => {
    const r = await p.call('POST', '/v1/dags', { body: etl() });
    const worker = db.jl.worker({
      queues: ['a'],
      handlers: { extract: async () => ({ rows: 3 }), transform: async (input: any) => ({ rows: input.rows * 2 }), load: async () => 'ok' },
    });
    await worker.start();
    try {
      await waitFor(async () => (await p.call('GET', `/v1/dags/${r.body.id}`)).body.state === 'succeeded', 20_000, 'run to succeed');
    } finally {
      await worker.stop();
    }
    const run = (await p.call('GET', `/v1/dags/${r.body.id}`)).body;
    expect(run.nodes.every((n: any) => n.state === 'succeeded')).toBe(true);
    const transform = run.nodes.find((n: any) => n.key === 'transform');
    expect((await db.jl.getJob(transform.jobId)).output).toEqual({ rows: 6 });
  });

  it('returns the existing run with 200 for a repeated idempotency key', async () => {
    const a = await p.call('POST', '/v1/dags', { body: etl({ idempotencyKey: 'nightly-2024-01-01' }) });
    const b = await p.call('POST', '/v1/dags', { body: etl({ idempotencyKey: 'nightly-2024-01-01' }) });
    expect([a.status, b.status]).toEqual([201, 200]);
    expect(b.body.id).toBe(a.body.id);
  });

  it('400 names bad fields, unknown parents and cycles', async () => {
    const bad = await p.call('POST', '/v1/dags', { body: { name: '', nodes: [{ key: 'a b', priority: 0.5 }] } });
    expect(bad.status).toBe(400);
    expect(issuePaths(bad.body)).toEqual(expect.arrayContaining(['name', 'nodes.0.key', 'nodes.0.priority']));
    const cycle = await p.call('POST', '/v1/dags', {
      body: {
        name: 'c',
        nodes: [
          { key: 'x', name: 'n', dependsOn: ['y'] },
          { key: 'y', name: 'n', dependsOn: ['x'] },
        ],
      },
    });
    expect(cycle.status).toBe(400);
    expect(JSON.stringify(cycle.body.error)).toMatch(/cycle/i);
    const parent = await p.call('POST', '/v1/dags', { body: { name: 'c', nodes: [{ key: 'x', name: 'n', dependsOn: ['ghost'] }] } });
    expect(parent.status).toBe(400);
    expect(JSON.stringify(parent.body.error)).toMatch(/ghost/);
  });

  it('cancels a running run; 409 once finished; 404 unknown; 400 malformed id', async () => {
    const r = await p.call('POST', '/v1/dags', { body: etl() });
    const c = await p.call('POST', `/v1/dags/${r.body.id}/cancel`);
    expect(c.status).toBe(200);
    expect(S.DagRun.parse(c.body).state).toBe('cancelled');
    expect(c.body.nodes.every((n: any) => n.state === 'cancelled')).toBe(true);
    expect((await p.call('POST', `/v1/dags/${r.body.id}/cancel`)).status).toBe(409);
    expect((await p.call('GET', '/v1/dags/99999999')).status).toBe(404);
    expect((await p.call('POST', '/v1/dags/99999999/cancel')).status).toBe(404);
    expect((await p.call('GET', '/v1/dags/x1')).status).toBe(400);
  });

  it('enforces scopes and queues on DAGs', async () => {
    const inB = { name: 'b', nodes: [{ key: 'x', queue: 'b', name: 'n' }] };
    expect((await p.call('POST', '/v1/dags', { token: TOKENS.reader, body: etl() })).status).toBe(403);
    expect((await p.call('POST', '/v1/dags', { token: TOKENS.writerA, body: inB })).status).toBe(403);
    // a node with no queue lands in "default", which writer-a may not use
    expect(
      (await p.call('POST', '/v1/dags', { token: TOKENS.writerA, body: { name: 'd', nodes: [{ key: 'x', name: 'n' }] } })).status,
    ).toBe(403);
    const ok = await p.call('POST', '/v1/dags', { token: TOKENS.writerA, body: etl() });
    expect(ok.status).toBe(201);
    const other = await p.call('POST', '/v1/dags', { body: inB });
    expect((await p.call('GET', `/v1/dags/${other.body.id}`, { token: TOKENS.writerA })).status).toBe(403);
    expect((await p.call('POST', `/v1/dags/${other.body.id}/cancel`, { token: TOKENS.writerA })).status).toBe(403);
    expect((await p.call('GET', `/v1/dags/${ok.body.id}`, { token: null })).status).toBe(401);
  });
});
