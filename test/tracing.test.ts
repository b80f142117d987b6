/**
 * OpenTelemetry traces with the real SDK (sdk-trace-base, in-memory exporter, AsyncLocalStorage
 * context manager): HTTP enqueue → publish → process; HTTP DAG submit → three nodes with
 * release spans linking to their parents' attempts, one node a real process job whose
 * TRACEPARENT is its attempt's span; no provider → no spans; no @opentelemetry/api → works.
 */
import { spawn } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { context, trace, SpanKind, SpanStatusCode, type SpanContext } from '@opentelemetry/api';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor, type ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import type { Handlers } from '@jobline/core';
import { migrate } from '@jobline/core/admin';
import { isValidTraceparent, tracingState, currentTraceparent } from '@jobline/core/observability';
import { startWorkerApp, type WorkerApp } from '@jobline/worker';
import { openTestDb, waitFor, type TestDb } from './helpers/db.js';
import { startTestProducer, type TestProducer } from './fixtures/app-producer.js';
import { internals } from '@jobline/core/internal';

const TRACE_ENV = fileURLToPath(new URL('./fixtures/trace-env.mjs', import.meta.url));
const ABSENT = fileURLToPath(new URL('./fixtures/tracing-absent.mjs', import.meta.url));
const ROOT = fileURLToPath(new URL('..', import.meta.url));
const CLI = fileURLToPath(new URL('../apps/cli/dist/main.js', import.meta.url));

const exporter = new InMemorySpanExporter();
const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
const tp = (sc: SpanContext) => `00-${sc.traceId}-${sc.spanId}-0${sc.traceFlags}`;

let db: TestDb;
let p: TestProducer;
let app: WorkerApp;
const handlers: Handlers = {
  // Returns what the handler sees: its trace context and the active span (its own spans' parent).
  echo: async (_input, ctx) => ({ traceparent: ctx.job.traceparent ?? null, active: currentTraceparent() ?? null }),
  extract: async () => ({ rows: 2 }),
  // Enqueues a job of its own: its publish span is a child of this attempt's span.
  spawn: async () => ({ child: (await db.jl.enqueue({ queue: 'tr-spawned', name: 'echo' })).id }),
  // Waits for its signal: ended by its timeout.
  hang: (_input, ctx) => new Promise((_, reject) => ctx.signal.addEventListener('abort', () => reject(ctx.signal.reason))),
  // Fails its first attempt: two process spans, the first an error.
  transform: async (input: { rows: number }, ctx) => {
    if (ctx.attempt === 1) throw Object.assign(new Error('flaky upstream'), { code: 'FLAKY' });
    return { rows: input.rows * 2 };
  },
};

beforeAll(async () => {
  db = await openTestDb();
  p = await startTestProducer(db);
  await db.jl.createDefinition({
    name: 'trace-env',
    executor: 'process',
    command: process.execPath,
    args: [TRACE_ENV],
    defaults: { queue: 'tr' },
  });
  // A process job that enqueues with the jobline CLI, which continues the TRACEPARENT it inherits.
  await db.jl.createDefinition({
    name: 'cli-enqueue',
    executor: 'process',
    command: process.execPath,
    args: [CLI, 'enqueue', 'tr', 'echo', '--quiet'],
    env: { DATABASE_URL: db.url, JOBLINE_SCHEMA: db.schema, LOG_LEVEL: 'warn' },
    defaults: { queue: 'tr', maxAttempts: 1 },
  });
  app = await startWorkerApp({ jl: db.jl, handlers, worker: { queues: ['tr'], concurrency: 4, backoff: { baseMs: 1, jitter: 0 } } });
});
afterAll(async () => {
  await app?.stop();
  await p?.close();
  await db?.close();
  trace.disable();
  context.disable();
});

const jobDone = (id: number) =>
  waitFor(async () => ['completed', 'failed'].includes((await db.jl.getJob(id)).state), 20_000, `job ${id} to finish`);
const spans = () => exporter.getFinishedSpans();
const one = (f: (s: ReadableSpan) => boolean, what: string): ReadableSpan => {
  const found = spans().filter(f);
  expect(
    found.length,
    `exactly one span ${what}; have: ${spans()
      .map((s) => s.name)
      .join(', ')}`,
  ).toBe(1);
  return found[0];
};
const byMessage = (name: string, jobId: number) => (s: ReadableSpan) =>
  s.name === name && s.attributes['messaging.message.id'] === String(jobId);
const parentOf = (s: ReadableSpan) => s.parentSpanContext?.spanId;

describe('traceparent values (W3C Trace Context)', () => {
  it('accepts valid headers and rejects the ones a receiver must ignore', () => {
    const id = '4bf92f3577b34da6a3ce929d0e0e4736';
    expect(isValidTraceparent(`00-${id}-00f067aa0ba902b7-01`)).toBe(true);
    expect(isValidTraceparent(`00-${id}-00f067aa0ba902b7-00`)).toBe(true);
    expect(isValidTraceparent(`01-${id}-00f067aa0ba902b7-01-future`)).toBe(true); // later versions may add fields
    expect(isValidTraceparent(`00-${id}-00f067aa0ba902b7-01-extra`)).toBe(false); // version 00 may not
    expect(isValidTraceparent(`ff-${id}-00f067aa0ba902b7-01`)).toBe(false);
    expect(isValidTraceparent(`00-${'0'.repeat(32)}-00f067aa0ba902b7-01`)).toBe(false);
    expect(isValidTraceparent(`00-${id}-${'0'.repeat(16)}-01`)).toBe(false);
    expect(isValidTraceparent(`00-${id.toUpperCase()}-00f067aa0ba902b7-01`)).toBe(false);
    expect(isValidTraceparent('')).toBe(false);
    expect(isValidTraceparent(undefined)).toBe(false);
  });
});

describe('without a tracer provider', () => {
  it('records nothing, stores the caller traceparent, and the handler sees it unchanged', async () => {
    expect(tracingState()).toBe('no-provider');
    const caller = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
    const r = await p.call('POST', '/v1/jobs', { body: { queue: 'tr', name: 'echo' }, headers: { traceparent: caller } });
    expect(r.status).toBe(201);
    expect(r.body.traceparent).toBe(caller);
    await jobDone(r.body.id);
    expect((await db.jl.getJob(r.body.id)).output).toEqual({ traceparent: caller, active: null });

    const bad = await p.call('POST', '/v1/jobs', {
      body: { queue: 'tr', name: 'echo' },
      headers: { traceparent: '00-00000000000000000000000000000000-00f067aa0ba902b7-01' },
    });
    expect(bad.status).toBe(201); // an invalid header is ignored, never a 400
    expect(bad.body.traceparent).toBeUndefined();
    await jobDone(bad.body.id);

    const run = await db.jl.submitDag({
      name: 'plain',
      nodes: [
        { key: 'a', queue: 'tr', name: 'extract' },
        { key: 'b', queue: 'tr', name: 'extract', dependsOn: ['a'] },
      ],
    });
    await waitFor(async () => (await db.jl.getDag(run.id)).state === 'succeeded', 20_000, 'plain run');
    const rows = await db.sql(`select traceparent from "${db.schema}".jobs where dag_run_id = $1`, [run.id]);
    expect(rows.map((x) => x.traceparent)).toEqual([null, null]);
    expect(spans()).toEqual([]);
  });
});

describe('with the SDK registered', () => {
  const tracer = () => trace.getTracer('test-client');
  beforeAll(() => {
    context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
    trace.setGlobalTracerProvider(provider);
    exporter.reset();
  });

  it('HTTP enqueue continues the caller trace: publish (PRODUCER) → process (CONSUMER), context stored and seen by the handler', async () => {
    expect(tracingState()).toBe('enabled');
    const client = tracer().startSpan('client call', { kind: SpanKind.CLIENT });
    const r = await p.call('POST', '/v1/jobs', { body: { queue: 'tr', name: 'echo' }, headers: { traceparent: tp(client.spanContext()) } });
    client.end();
    expect(r.status).toBe(201);
    const id: number = r.body.id;
    await jobDone(id);

    const publish = one(byMessage('publish tr', id), 'publish tr');
    expect(publish.kind).toBe(SpanKind.PRODUCER);
    expect(publish.instrumentationScope.name).toBe('@jobline/core');
    expect(publish.spanContext().traceId).toBe(client.spanContext().traceId);
    expect(parentOf(publish)).toBe(client.spanContext().spanId);
    expect(publish.attributes).toMatchObject({
      'messaging.system': 'jobline',
      'messaging.operation.name': 'publish',
      'messaging.operation.type': 'send',
      'messaging.destination.name': 'tr',
      'messaging.message.id': String(id),
      'jobline.job.name': 'echo',
      'jobline.job.created': true,
    });
    // The column holds the creation context: the publish span.
    expect(r.body.traceparent).toBe(tp(publish.spanContext()));

    const proc = one(byMessage('process tr', id), 'process tr');
    expect(proc.kind).toBe(SpanKind.CONSUMER);
    expect(proc.spanContext().traceId).toBe(client.spanContext().traceId);
    expect(parentOf(proc)).toBe(publish.spanContext().spanId);
    expect(proc.links.map((l) => l.context.spanId)).toEqual([publish.spanContext().spanId]);
    expect(proc.attributes).toMatchObject({
      'messaging.system': 'jobline',
      'messaging.operation.name': 'process',
      'messaging.operation.type': 'process',
      'messaging.destination.name': 'tr',
      'messaging.client.id': app.worker.id,
      'jobline.job.name': 'echo',
      'jobline.job.attempt': 1,
      'jobline.job.outcome': 'completed',
    });
    expect(proc.status.code).toBe(SpanStatusCode.UNSET);
    // Inside the attempt the handler sees the attempt's own span, as job context and as the active span.
    const own = tp(proc.spanContext());
    expect((await db.jl.getJob(id)).output).toEqual({ traceparent: own, active: own });
    // The stored column is unchanged by the attempt.
    expect((await db.jl.getJob(id)).traceparent).toBe(tp(publish.spanContext()));
  });

  it('HTTP DAG submit: one trace through three nodes, release spans link to the parents’ attempts, the process job gets TRACEPARENT', async () => {
    exporter.reset();
    const client = tracer().startSpan('client submit', { kind: SpanKind.CLIENT });
    const r = await p.call('POST', '/v1/dags', {
      headers: { traceparent: tp(client.spanContext()) },
      body: {
        name: 'traced-etl',
        nodes: [
          { key: 'extract', queue: 'tr', name: 'extract' },
          {
            key: 'transform',
            queue: 'tr',
            name: 'transform',
            dependsOn: ['extract'],
            input: { rows: { $ref: 'extract.output.rows' } },
            maxAttempts: 3,
          },
          {
            key: 'report',
            definition: 'trace-env',
            dependsOn: ['extract', 'transform'],
            input: { rows: { $ref: 'transform.output.rows' } },
          },
        ],
      },
    });
    client.end();
    expect(r.status).toBe(201);
    const runId: number = r.body.id;
    await waitFor(async () => (await db.jl.getDag(runId)).state === 'succeeded', 30_000, 'traced run to succeed');
    const run = await db.jl.getDag(runId);
    const jobOf = (key: string) => run.nodes.find((n) => n.key === key)!.jobId!;
    const traceId = client.spanContext().traceId;

    const submit = one((s) => s.name === 'submit_dag traced-etl', 'submit_dag');
    expect(submit.kind).toBe(SpanKind.PRODUCER);
    expect(parentOf(submit)).toBe(client.spanContext().spanId);
    expect(submit.attributes).toMatchObject({
      'messaging.system': 'jobline',
      'messaging.operation.name': 'submit_dag',
      'messaging.operation.type': 'send',
      'messaging.batch.message_count': 3,
      'messaging.destination.name': 'tr',
      'jobline.dag.name': 'traced-etl',
      'jobline.dag.run_id': runId,
      'jobline.dag.created': true,
    });

    // Root: processed as a child of the submit span (and linked to it).
    const extract = one(byMessage('process tr', jobOf('extract')), 'process extract');
    expect(parentOf(extract)).toBe(submit.spanContext().spanId);
    expect(extract.links.map((l) => l.context.spanId)).toEqual([submit.spanContext().spanId]);
    expect(extract.attributes).toMatchObject({
      'jobline.dag.run_id': runId,
      'jobline.dag.node_key': 'extract',
      'jobline.job.outcome': 'completed',
    });

    // transform: released by extract's completion; two attempts, the first failed and retried.
    const relT = one(byMessage('release tr', jobOf('transform')), 'release transform');
    expect(relT.kind).toBe(SpanKind.PRODUCER);
    expect(parentOf(relT)).toBe(submit.spanContext().spanId);
    expect(relT.attributes).toMatchObject({
      'messaging.operation.name': 'release',
      'messaging.operation.type': 'create',
      'jobline.dag.node_key': 'transform',
    });
    expect(relT.links.map((l) => [l.context.spanId, l.attributes?.['jobline.dag.node_key']])).toEqual([
      [extract.spanContext().spanId, 'extract'],
    ]);
    const attempts = spans()
      .filter(byMessage('process tr', jobOf('transform')))
      .sort((a, b) => Number(a.attributes['jobline.job.attempt']) - Number(b.attributes['jobline.job.attempt']));
    expect(attempts.map((s) => [s.attributes['jobline.job.attempt'], s.attributes['jobline.job.outcome']])).toEqual([
      [1, 'retryable'],
      [2, 'completed'],
    ]);
    for (const a of attempts) expect(parentOf(a)).toBe(relT.spanContext().spanId);
    expect(attempts[0].status.code).toBe(SpanStatusCode.ERROR);
    expect(attempts[0].attributes['error.type']).toBe('FLAKY');
    expect(attempts[0].events.map((e) => e.name)).toContain('exception');
    expect(attempts[1].status.code).toBe(SpanStatusCode.UNSET);

    // report: two parents → its release links to extract's attempt and transform's completing (second) attempt.
    const relR = one(byMessage('release tr', jobOf('report')), 'release report');
    expect(parentOf(relR)).toBe(submit.spanContext().spanId);
    expect(relR.links.map((l) => [l.context.spanId, l.attributes?.['jobline.dag.node_key']])).toEqual([
      [extract.spanContext().spanId, 'extract'],
      [attempts[1].spanContext().spanId, 'transform'],
    ]);
    const report = one(byMessage('process tr', jobOf('report')), 'process report');
    expect(parentOf(report)).toBe(relR.spanContext().spanId);
    expect(report.attributes).toMatchObject({ 'jobline.job.definition': 'trace-env@1', 'jobline.job.outcome': 'completed' });
    // The process job's TRACEPARENT is its attempt's span: its own spans would nest under it.
    expect((await db.jl.getJob(jobOf('report'))).output).toEqual({ traceparent: tp(report.spanContext()), input: { rows: 4 } });

    // One trace: every span of the run shares the client's trace id.
    const mine = spans().filter((s) => s.spanContext().traceId === traceId);
    expect(mine.length).toBe(spans().length);
    expect(mine.map((s) => s.name).sort()).toEqual([
      'client submit',
      'process tr',
      'process tr',
      'process tr',
      'process tr',
      'release tr',
      'release tr',
      'submit_dag traced-etl',
    ]);
    // Completed nodes keep their completing attempt's context (what the release links point at).
    expect((await db.jl.getJob(jobOf('extract'))).traceparent).toBe(tp(extract.spanContext()));
  });

  it('enqueueMany inside an active span: one publish span, custom creation contexts kept and linked', async () => {
    exporter.reset();
    const custom = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';
    const outer = tracer().startSpan('app work');
    const jobs = await context.with(trace.setSpan(context.active(), outer), () =>
      db.jl.enqueueMany([
        { queue: 'tr', name: 'echo', traceparent: custom },
        { queue: 'tr-other', name: 'echo' },
      ]),
    );
    outer.end();
    const publish = one((s) => s.name === 'publish', 'publish (two queues)');
    expect(parentOf(publish)).toBe(outer.spanContext().spanId);
    expect(publish.attributes['messaging.batch.message_count']).toBe(2);
    expect(publish.attributes['messaging.destination.name']).toBeUndefined();
    expect(publish.links.map((l) => tp(l.context))).toEqual([custom]);
    expect(jobs.map((j) => j.traceparent)).toEqual([custom, tp(publish.spanContext())]);
    await db.jl.cancel(jobs[1].id);
    await jobDone(jobs[0].id);
  });

  it('a job enqueued by a handler is published under its attempt; a timed-out attempt ends as an error', async () => {
    exporter.reset();
    const parent = await db.jl.enqueue({ queue: 'tr', name: 'spawn' });
    const hung = await db.jl.enqueue({ queue: 'tr', name: 'hang', timeoutMs: 100, maxAttempts: 1 });
    await jobDone(parent.id);
    await jobDone(hung.id);
    const childId = ((await db.jl.getJob(parent.id)).output as { child: number }).child;
    const attempt = one(byMessage('process tr', parent.id), 'process spawn');
    const childPublish = one(byMessage('publish tr-spawned', childId), 'publish of the spawned job');
    expect(parentOf(childPublish)).toBe(attempt.spanContext().spanId);
    expect(childPublish.spanContext().traceId).toBe(attempt.spanContext().traceId);
    await db.jl.cancel(childId);

    const timedOut = one(byMessage('process tr', hung.id), 'process hang');
    expect(timedOut.attributes['jobline.job.outcome']).toBe('timed_out');
    expect(timedOut.attributes['error.type']).toBe('TIMEOUT');
    expect(timedOut.status.code).toBe(SpanStatusCode.ERROR);
    expect((await db.jl.getJob(hung.id)).state).toBe('failed');
  });

  it('a process job running `jobline enqueue` passes its TRACEPARENT on: the new job is processed under that attempt', async () => {
    exporter.reset();
    const outer = await db.jl.enqueue({ definition: 'cli-enqueue' });
    await jobDone(outer.id);
    const outerJob = await db.jl.getJob(outer.id);
    expect(outerJob.state).toBe('completed');
    const innerId = outerJob.output as number;
    await jobDone(innerId);
    const outerAttempt = one(byMessage('process tr', outer.id), 'process of the CLI job');
    // The CLI process traces nothing: it stores the inherited TRACEPARENT as the creation context.
    expect((await db.jl.getJob(innerId)).traceparent).toBe(tp(outerAttempt.spanContext()));
    const inner = one(byMessage('process tr', innerId), 'process of the job the CLI enqueued');
    expect(parentOf(inner)).toBe(outerAttempt.spanContext().spanId);
    expect(inner.spanContext().traceId).toBe(outerAttempt.spanContext().traceId);
  });

  it('a failed insert ends the publish span as an error', async () => {
    exporter.reset();
    await expect(db.jl.enqueue({ queue: 'tr', name: 'echo', definition: 'no-such-definition' })).rejects.toThrow(/no-such-definition/);
    expect(spans().filter((s) => s.name.startsWith('publish'))).toEqual([]); // rejected before anything is written: no span
    await expect(db.jl.submitDag({ name: 'bad-def', nodes: [{ key: 'a', definition: 'no-such-definition' }] })).rejects.toThrow(
      /no-such-definition/,
    );
    const failed = one((s) => s.name === 'submit_dag bad-def', 'failed submit');
    expect(failed.status.code).toBe(SpanStatusCode.ERROR);
    expect(failed.attributes['error.type']).toBe('VALIDATION');
  });
});

describe('without @opentelemetry/api installed', () => {
  it('enqueue, DAG and worker run in a node_modules tree without the package', async () => {
    // A real tree without the package: symlinks to every other installed package, resolved by
    // their link paths (--preserve-symlinks), so nothing can reach the repository's copy.
    const dir = mkdtempSync(join(tmpdir(), 'jobline-no-otel-'));
    try {
      const nm = join(dir, 'node_modules');
      mkdirSync(nm);
      for (const entry of readdirSync(join(ROOT, 'node_modules'))) {
        if (entry === '@opentelemetry' || entry === '.bin' || entry.startsWith('.')) continue;
        symlinkSync(join(ROOT, 'node_modules', entry), join(nm, entry));
      }
      const script = join(dir, 'run.mjs');
      cpSync(ABSENT, script);
      const schema = `${db.schema}_absent`;
      // Migrated from here: the migrations folder is found relative to the real package.
      await migrate(internals(db.jl).pool, schema);
      const out = await new Promise<string>((resolve, reject) => {
        const child = spawn(process.execPath, ['--preserve-symlinks', '--preserve-symlinks-main', script, db.url, schema], {
          stdio: ['ignore', 'pipe', 'pipe'],
        });
        let stdout = '';
        let stderr = '';
        child.stdout.on('data', (d) => (stdout += d));
        child.stderr.on('data', (d) => (stderr += d));
        child.on('exit', (code) => (code === 0 ? resolve(stdout) : reject(new Error(`exit ${code}: ${stderr}`))));
      });
      await db.sql(`drop schema if exists "${schema}" cascade`);
      const result = JSON.parse(out.trim().split('\n').pop()!);
      expect(result).toEqual({
        before: 'absent',
        after: 'absent',
        done: { job: 'completed', dag: 'succeeded' },
        // The caller's context is still stored (and handed to the handler); DAG nodes without one have none.
        stored: ['00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01', null, null],
        seen: expect.arrayContaining(['00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01', null, null]),
      });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('the public type declarations never import @opentelemetry/api (they compile without it)', () => {
    // Walks the d.ts import graph from the package's entry, as a consumer's compiler would.
    const reached = new Set<string>();
    const offending: string[] = [];
    const walk = (file: string, via: string[]) => {
      if (reached.has(file)) return;
      reached.add(file);
      for (const m of readFileSync(file, 'utf8').matchAll(/(?:from|import)\s*\(?\s*['"]([^'"]+)['"]/g)) {
        if (m[1].startsWith('.')) {
          const next = resolve(dirname(file), m[1].replace(/\.js$/, '.d.ts'));
          if (existsSync(next)) walk(next, [...via, file]);
        } else if (m[1].startsWith('@opentelemetry/')) offending.push([...via, file].join(' -> '));
      }
    };
    walk(join(ROOT, 'packages/core/dist/index.d.ts'), []);
    expect(reached.size).toBeGreaterThan(20);
    expect(offending).toEqual([]);
  });
});
