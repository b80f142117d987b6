/**
 * The container executor on a real Docker Engine API (podman's service; `npm run test:containers`).
 * Jobs are `sh -c` scripts in the static busybox image that .ci/podman.sh builds. Every check of
 * "no container left" asks the engine itself, by the executor's labels.
 */
import { Writable } from 'node:stream';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Worker } from '@jobline/core';
import { openTestDb, waitFor, type TestDb } from '../helpers/db.js';
import { startWorkerProcess, stopAll, type WorkerProcess } from '../helpers/processes.js';
import { startTestProducer, type TestProducer } from '../fixtures/app-producer.js';
import { TEST_IMAGE as IMAGE } from './engine-setup.js';
import { containersOf, engine } from './helpers.js';

const SECRET = 'w16-container-s3cr3t-9f2c1d';
const TP = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
const MISSING = 'localhost/w16-no-such-image:1';
const logs: string[] = [];
let db: TestDb;
let scope: string;
let worker: Worker;
let producer: TestProducer;
const procs: WorkerProcess[] = [];
const extraWorkers: Worker[] = [];

const sh = (script: string) => ({ executor: 'container' as const, image: IMAGE, command: 'sh', args: ['-c', script] });
const state = async (id: number) => (await db.jl.getJob(id)).state;

beforeAll(async () => {
  const sink = new Writable({ write: (chunk, _enc, done) => (logs.push(String(chunk)), done()) });
  db = await openTestDb({ logger: pino({ level: 'debug' }, sink) });
  scope = `${(await db.sql('select current_database() as d'))[0].d}/${db.schema}`;
  const q = { queue: 'c' };
  await db.jl.createDefinition({
    name: 'c-echo',
    ...sh(
      'x=$(cat); printf \'{"got":%s,"job":%s,"attempt":%s,"tp":"%s","greeting":"%s"}\\n\' "$x" "$JOBLINE_JOB_ID" "$JOBLINE_ATTEMPT" "$TRACEPARENT" "$GREETING"',
    ),
    env: { GREETING: 'hello' },
    resources: { cpu: 0.5, memoryMb: 64, network: 'none' },
    defaults: q,
  });
  await db.jl.createDefinition({
    name: 'c-fail',
    ...sh('i=0; while [ $i -lt 600 ]; do echo "noise line $i" >&2; i=$((i+1)); done; echo "fatal: the widget is broken" >&2; exit 3'),
    defaults: { ...q, maxAttempts: 1 },
  });
  await db.jl.createDefinition({
    name: 'c-sleep',
    ...sh('sleep 60'),
    resources: { cpu: 0.5, memoryMb: 64, network: 'none' },
    defaults: { ...q, maxAttempts: 1 },
  });
  await db.jl.createDefinition({
    name: 'c-file',
    ...sh('cat "$JOBLINE_INPUT_FILE" > "$JOBLINE_OUTPUT_FILE"; echo "this stdout is not the output"'),
    container: { input: 'file', outputPath: '/jobline/output.json' },
    defaults: q,
  });
  await db.jl.createDefinition({
    name: 'c-missing-never',
    executor: 'container',
    image: MISSING,
    container: { pullPolicy: 'never' },
    defaults: { ...q, maxAttempts: 1 },
  });
  await db.jl.createDefinition({
    name: 'c-missing-pull',
    executor: 'container',
    image: MISSING,
    container: { pullPolicy: 'if-missing' },
    defaults: { ...q, maxAttempts: 1 },
  });
  await db.jl.createDefinition({
    name: 'c-secret',
    ...sh('printf \'{"len":%s}\' "${#W16_SECRET}"; echo "done" >&2'),
    secretEnv: ['W16_SECRET'],
    defaults: q,
  });
  await db.jl.createDefinition({
    name: 'c-secret-fail',
    ...sh('echo "failing on purpose" >&2; exit 1'),
    secretEnv: ['W16_SECRET'],
    defaults: { ...q, maxAttempts: 1 },
  });
  // This worker also leads maintenance (rescue + reaping) with a short stale time.
  worker = db.jl.worker({
    queues: ['c'],
    concurrency: 4,
    pollIntervalMs: 50,
    heartbeatIntervalMs: 200,
    staleAfterMs: 1000,
    rescueIntervalMs: 100,
    leaseTtlMs: 500,
    executors: { container: { env: { ...process.env, W16_SECRET: SECRET } } },
  });
  await worker.start();
  producer = await startTestProducer(db);
});

afterAll(async () => {
  await stopAll(procs);
  await Promise.all(extraWorkers.map((w) => w.stop()));
  await worker?.stop();
  await producer?.close();
  // Nothing of this schema may be left on the engine, whatever the tests did.
  const left = scope ? await containersOf(scope) : [];
  await db?.close();
  expect(left.map((c) => c.Id)).toEqual([]);
});

describe('container jobs on a real engine', () => {
  it('stores the JSON output of a container that read its input on stdin; env, TRACEPARENT and resources applied; container removed', async () => {
    const { id } = await db.jl.enqueue({ definition: 'c-echo', input: { n: 42, s: 'x y' }, traceparent: TP });
    await waitFor(async () => (await state(id)) === 'completed', 30_000, 'the echo job');
    expect((await db.jl.getJob(id)).output).toEqual({ got: { n: 42, s: 'x y' }, job: id, attempt: 1, tp: TP, greeting: 'hello' });
    expect(await db.jl.executions(id)).toMatchObject([{ attempt: 1, state: 'completed', workerId: worker.id }]);
    expect(await containersOf(scope, id)).toEqual([]);
  });

  it('takes the input from a mounted file and the output from a declared output file', async () => {
    const { id } = await db.jl.enqueue({ definition: 'c-file', input: { via: 'file', list: [1, 2] } });
    await waitFor(async () => (await state(id)) === 'completed', 30_000, 'the file job');
    expect((await db.jl.getJob(id)).output).toEqual({ via: 'file', list: [1, 2] });
  });

  it('records a non-zero exit with its code and the tail of stderr in the execution history', async () => {
    const { id } = await db.jl.enqueue({ definition: 'c-fail' });
    await waitFor(async () => (await state(id)) === 'failed', 30_000, 'the failing job');
    const [ex] = await db.jl.executions(id);
    expect(ex).toMatchObject({ state: 'failed', error: { code: 'CONTAINER_EXIT', exitCode: 3 } });
    expect(ex.error?.stderrTail).toMatch(/fatal: the widget is broken$/);
    expect(ex.error?.stderrTail).not.toContain('noise line 0\n'); // only the end is kept (4 KiB)
    expect(ex.error?.message).toMatch(/exited with code 3; stderr \(end\):/);
    expect(await containersOf(scope, id)).toEqual([]);
  });

  it('on timeout kills and removes the container; the attempt is timed_out', async () => {
    const { id } = await db.jl.enqueue({ definition: 'c-sleep', timeoutMs: 1500 });
    const running = await waitFor(
      async () => (await containersOf(scope, id)).find((c) => c.State === 'running'),
      30_000,
      'the container to run',
    );
    // Labels and resources as created.
    const { value: info } = await engine.json<any>('GET', `/containers/${running.Id}/json`, { what: 'inspect' });
    expect(info.Config.Labels).toMatchObject({
      'dev.jobline.job-id': String(id),
      'dev.jobline.attempt': '1',
      'dev.jobline.worker-id': worker.id,
      'dev.jobline.definition': 'c-sleep@1',
    });
    expect(info.HostConfig).toMatchObject({ NanoCpus: 500_000_000, Memory: 64 * 1024 * 1024, NetworkMode: 'none' });
    await waitFor(async () => (await state(id)) === 'failed', 30_000, 'the timeout');
    expect(await db.jl.executions(id)).toMatchObject([{ state: 'timed_out', error: { code: 'TIMEOUT' } }]);
    await waitFor(async () => (await containersOf(scope, id)).length === 0, 10_000, 'the container to be removed');
  });

  it('on cancel kills and removes the container', async () => {
    const { id } = await db.jl.enqueue({ definition: 'c-sleep' });
    await waitFor(async () => (await containersOf(scope, id)).some((c) => c.State === 'running'), 30_000, 'the container to run');
    await db.jl.cancel(id);
    await waitFor(async () => (await containersOf(scope, id)).length === 0, 10_000, 'the container to be removed');
    expect(await state(id)).toBe('cancelled');
    expect(await db.jl.executions(id)).toMatchObject([{ state: 'cancelled' }]);
  });

  it('fails the attempt with a clear error when the image is missing: pullPolicy never, and if-missing when the pull fails', async () => {
    const never = await db.jl.enqueue({ definition: 'c-missing-never' });
    const pull = await db.jl.enqueue({ definition: 'c-missing-pull' });
    await waitFor(
      async () => (await state(never.id)) === 'failed' && (await state(pull.id)) === 'failed',
      60_000,
      'the missing-image jobs',
    );
    const [a] = await db.jl.executions(never.id);
    expect(a.error).toMatchObject({ code: 'IMAGE_MISSING', retryable: false });
    expect(a.error?.message).toContain(`image "${MISSING}" is not on the engine`);
    expect(a.error?.message).toContain('pullPolicy');
    const [b] = await db.jl.executions(pull.id);
    expect(b.error).toMatchObject({ code: 'IMAGE_PULL_FAILED' });
    expect(b.error?.message).toContain(`image "${MISSING}" is not on the engine and pulling it failed`);
  });

  it('keeps secrets out of the database (jobs, history, events, definitions, workers), the logs and the API', async () => {
    const ok = await db.jl.enqueue({ definition: 'c-secret' });
    const bad = await db.jl.enqueue({ definition: 'c-secret-fail' });
    await waitFor(async () => (await state(ok.id)) === 'completed' && (await state(bad.id)) === 'failed', 30_000, 'the secret jobs');
    expect((await db.jl.getJob(ok.id)).output).toEqual({ len: SECRET.length }); // the container did get it
    const S = `"${db.schema}"`;
    const [dump] = await db.sql(`
      select (select coalesce(string_agg(t::text, ''), '') from ${S}.jobs t) ||
             (select coalesce(string_agg(t::text, ''), '') from ${S}.job_executions t) ||
             (select coalesce(string_agg(t::text, ''), '') from ${S}.events t) ||
             (select coalesce(string_agg(t::text, ''), '') from ${S}.job_definitions t) ||
             (select coalesce(string_agg(t::text, ''), '') from ${S}.workers t) as everything`);
    expect(dump.everything).toContain('c-secret');
    expect(dump.everything).not.toContain(SECRET);
    const api = await Promise.all(
      [
        `/v1/jobs/${ok.id}`,
        `/v1/jobs/${ok.id}/executions`,
        `/v1/jobs/${bad.id}`,
        `/v1/jobs/${bad.id}/executions`,
        '/v1/jobs?queue=c&limit=100',
        '/v1/definitions/c-secret',
      ].map((p) => producer.call('GET', p)),
    );
    for (const r of api) expect(r.status).toBe(200);
    expect(api.map((r) => r.text).join('')).toContain('c-secret');
    expect(api.map((r) => r.text).join('')).not.toContain(SECRET);
    expect(logs.join('')).toContain('container job started'); // debug logs were captured
    expect(logs.join('')).not.toContain(SECRET);
  });

  it('a worker SIGKILLed mid-container leaves no container behind after the rescue', async () => {
    await db.jl.createDefinition({
      name: 'c-kill',
      ...sh('if [ "$JOBLINE_ATTEMPT" = 1 ]; then sleep 120; fi; echo "{\\"attempt\\":$JOBLINE_ATTEMPT}"'),
      defaults: { queue: 'ck', maxAttempts: 3 },
    });
    const victim = await startWorkerProcess({
      DATABASE_URL: db.url,
      JOBLINE_SCHEMA: db.schema,
      QUEUES: 'ck',
      WORKER_OPTIONS: JSON.stringify({
        maintenance: false,
        heartbeatIntervalMs: 200,
        staleAfterMs: 1000,
        pollIntervalMs: 50,
        executors: { container: {} },
      }),
    });
    procs.push(victim);
    const { id } = await db.jl.enqueue({ definition: 'c-kill' });
    const c = await waitFor(async () => (await containersOf(scope, id)).find((x) => x.State === 'running'), 30_000, 'the victim container');
    expect(c.Labels['dev.jobline.worker-id']).toBe(victim.id);
    victim.child.kill('SIGKILL');
    await victim.exited;
    // The engine keeps the container running: only the reaper can remove it.
    expect((await containersOf(scope, id)).map((x) => x.State)).toEqual(['running']);
    await waitFor(async () => (await db.jl.executions(id))[0]?.state === 'lost', 30_000, 'the rescue');
    await waitFor(async () => (await containersOf(scope, id)).length === 0, 15_000, 'the reaper to remove the container');
    // The rescued job runs again elsewhere, and that container goes too. (Its heartbeat settings
    // match the leader's: the leader judges every worker by its own staleAfterMs.)
    const next = db.jl.worker({
      queues: ['ck'],
      pollIntervalMs: 50,
      heartbeatIntervalMs: 200,
      staleAfterMs: 1000,
      maintenance: false,
      executors: { container: {} },
    });
    extraWorkers.push(next);
    await next.start();
    await waitFor(async () => (await state(id)) === 'completed', 30_000, 'the second attempt');
    expect((await db.jl.getJob(id)).output).toEqual({ attempt: 2 });
    expect((await db.jl.executions(id)).map((e) => [e.attempt, e.state, e.workerId])).toEqual([
      [1, 'lost', victim.id],
      [2, 'completed', next.id],
    ]);
    expect(await containersOf(scope, id)).toEqual([]);
  });

  it('a container-capable worker that starts reaps containers of dead workers before it claims (no leader involved)', async () => {
    // A schema of its own, with no maintenance leader: only the start-up reaping can remove it.
    const own = await openTestDb();
    const ownScope = `${(await own.sql('select current_database() as d'))[0].d}/${own.schema}`;
    try {
      await own.jl.createDefinition({ name: 'c-long', ...sh('sleep 120'), defaults: { queue: 'cs' } });
      const victim = await startWorkerProcess({
        DATABASE_URL: own.url,
        JOBLINE_SCHEMA: own.schema,
        QUEUES: 'cs',
        WORKER_OPTIONS: JSON.stringify({
          maintenance: false,
          heartbeatIntervalMs: 200,
          staleAfterMs: 1000,
          pollIntervalMs: 50,
          executors: { container: {} },
        }),
      });
      procs.push(victim);
      const { id } = await own.jl.enqueue({ definition: 'c-long' });
      await waitFor(async () => (await containersOf(ownScope, id)).some((x) => x.State === 'running'), 30_000, 'the victim container');
      victim.child.kill('SIGKILL');
      await victim.exited;
      // Dead by the rescuer's rule: no heartbeat for staleAfterMs.
      await waitFor(
        async () =>
          (
            await own.sql(`select heartbeat_at < now() - interval '1 second' as stale from "${own.schema}".workers where id = $1`, [
              victim.id,
            ])
          )[0]?.stale,
        10_000,
        'the heartbeat to go stale',
      );
      expect(await containersOf(ownScope, id)).toHaveLength(1);
      const fresh = own.jl.worker({
        queues: ['other'],
        maintenance: false,
        heartbeatIntervalMs: 200,
        staleAfterMs: 1000,
        executors: { container: {} },
      });
      await fresh.start();
      expect(await containersOf(ownScope, id)).toEqual([]); // start() returned after reaping
      await fresh.stop();
    } finally {
      await own.close();
    }
  });
});
