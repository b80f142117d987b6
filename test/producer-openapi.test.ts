import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openTestDb, type TestDb } from './helpers/db.js';
import { startTestProducer, type TestProducer } from './fixtures/app-producer.js';

let db: TestDb;
let p: TestProducer;
let doc: any;
beforeAll(async () => {
  db = await openTestDb();
  p = await startTestProducer(db);
  doc = (await p.call('GET', '/openapi.json', { token: null })).body;
});
afterAll(async () => {
  await p?.close();
  await db?.close();
});

/** Every `$ref` in a document, with where it was found. */
function refs(v: unknown, at = '#', out: [string, string][] = []): [string, string][] {
  if (Array.isArray(v)) v.forEach((x, i) => refs(x, `${at}/${i}`, out));
  else if (v && typeof v === 'object') {
    for (const [k, x] of Object.entries(v)) {
      if (k === '$ref' && typeof x === 'string') out.push([at, x]);
      else refs(x, `${at}/${k}`, out);
    }
  }
  return out;
}

function resolve(d: any, ref: string): unknown {
  if (!ref.startsWith('#/')) return undefined;
  return ref
    .slice(2)
    .split('/')
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'))
    .reduce((node: any, key) => (node === undefined ? undefined : node[key]), d);
}

describe('GET /openapi.json', () => {
  it('is an OpenAPI 3.1 document', () => {
    expect(doc.openapi).toBe('3.1.0');
    expect(doc.info).toMatchObject({ title: expect.any(String), version: expect.any(String) });
    expect(doc.components.securitySchemes.bearer).toEqual({ type: 'http', scheme: 'bearer' });
  });

  it('documents every route the server has, and nothing else', () => {
    const served = p.producer.router.routes.map((r) => `${r.method.toLowerCase()} ${r.path.replace(/:(\w+)/g, '{$1}')}`).sort();
    const documented = Object.entries(doc.paths)
      .flatMap(([path, ops]) => Object.keys(ops as object).map((m) => `${m} ${path}`))
      .sort();
    expect(documented).toEqual(served);
    for (const required of [
      'post /v1/jobs',
      'post /v1/jobs/batch',
      'get /v1/jobs/{id}',
      'get /v1/jobs/{id}/executions',
      'get /v1/jobs',
      'post /v1/jobs/{id}/cancel',
      'post /v1/dags',
      'get /v1/dags/{id}',
      'post /v1/dags/{id}/cancel',
      'get /v1/queues',
      'post /v1/definitions',
      'get /v1/definitions',
      'get /healthz',
      'get /readyz',
      'get /metrics',
      'get /openapi.json',
    ]) {
      expect(documented).toContain(required);
    }
  });

  it('every $ref resolves, and every operation is complete', () => {
    const all = refs(doc);
    expect(all.length).toBeGreaterThan(20);
    for (const [at, ref] of all) expect(resolve(doc, ref), `${ref} at ${at}`).toBeDefined();
    const ids = new Set<string>();
    for (const [path, ops] of Object.entries<any>(doc.paths)) {
      for (const [method, op] of Object.entries<any>(ops)) {
        expect(op.operationId, `${method} ${path}`).toMatch(/^\w+$/);
        expect(ids.has(op.operationId)).toBe(false);
        ids.add(op.operationId);
        expect(Object.keys(op.responses).length).toBeGreaterThan(0);
        // every path template variable is a declared path parameter
        for (const [, name] of path.matchAll(/\{(\w+)\}/g)) {
          expect(
            op.parameters.some((q: any) => q.in === 'path' && q.name === name && q.required),
            `${path} ${name}`,
          ).toBe(true);
        }
        if (op.security.length) expect(Object.keys(op.responses)).toContain('401');
      }
    }
  });

  it('schemas come from the validating zod schemas (bounds, enums, required fields)', () => {
    const s = doc.components.schemas;
    expect(s.JobCreate.properties.priority).toMatchObject({ type: 'integer', minimum: -1_000_000, maximum: 1_000_000 });
    expect(s.JobCreate.additionalProperties).toBe(false);
    expect(s.Job.properties.state.enum).toEqual(expect.arrayContaining(['available', 'running', 'completed', 'failed', 'cancelled']));
    expect(s.Job.required).toEqual(expect.arrayContaining(['id', 'queue', 'name', 'state', 'createdAt']));
    expect(s.DefinitionCreate.properties.executor.enum).toEqual(['handler', 'process', 'container']);
    expect(s.DagCreate.properties.failurePolicy.enum).toEqual(['fail_fast', 'continue']);
    expect(s.DagRun.properties.nodes.items.$ref).toBe('#/components/schemas/DagNode');
    expect(s.JobBatchCreate.properties.jobs).toMatchObject({ maxItems: 10_000, items: { $ref: '#/components/schemas/JobCreate' } });
    const list = doc.paths['/v1/jobs'].get.parameters.map((q: any) => q.name).sort();
    expect(list).toEqual(['cursor', 'limit', 'queue', 'state']);
  });
});
