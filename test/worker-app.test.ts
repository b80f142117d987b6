import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadHandlers, startWorkerApp, type WorkerApp } from '@jobline/worker';
import { openTestDb, waitFor, type TestDb } from './helpers/db.js';
import { dead } from './helpers/processes.js';

const PROGRAM = fileURLToPath(new URL('./fixtures/app-process-job.mjs', import.meta.url));
const HANDLERS = fileURLToPath(new URL('./fixtures/app-handlers.mjs', import.meta.url));

let db: TestDb;
let app: WorkerApp;
let dir: string;
const proc = (mode: string, extra: object = {}) => ({
  executor: 'process' as const,
  command: process.execPath,
  args: [PROGRAM, mode],
  defaults: { queue: 'proc' },
  ...extra,
});

beforeAll(async () => {
  db = await openTestDb();
  dir = await mkdtemp(join(tmpdir(), 'jl-worker-app-'));
  process.env.JL_TEST_SECRET = 's3cret';
  const { jl } = db;
  await jl.createDefinition({ name: 'echo', ...proc('echo', { env: { GREETING: 'hi' }, secretEnv: ['JL_TEST_SECRET'] }) });
  await jl.createDefinition({ name: 'exit3', ...proc('exit', { defaults: { queue: 'proc', maxAttempts: 1 } }) });
  await jl.createDefinition({ name: 'hang', ...proc('hang', { defaults: { queue: 'proc', maxAttempts: 1, timeoutMs: 600 } }) });
  await jl.createDefinition({ name: 'hang-long', ...proc('hang', { defaults: { queue: 'proc', maxAttempts: 1 } }) });
  await jl.createDefinition({ name: 'badjson', ...proc('badjson', { defaults: { queue: 'proc', maxAttempts: 3 } }) });
  await jl.createDefinition({ name: 'logs', ...proc('logs') });
  await jl.createDefinition({
    name: 'missing-cmd',
    executor: 'process',
    command: 'jobline-no-such-command',
    defaults: { queue: 'proc', maxAttempts: 1 },
  });
  await jl.createDefinition({ name: 'greet', executor: 'handler', defaults: { queue: 'proc' } });
  await jl.createDefinition({ name: 'unhandled', executor: 'handler', defaults: { queue: 'proc', maxAttempts: 1 } });
  app = await startWorkerApp({
    jl,
    handlers: await loadHandlers(HANDLERS),
    port: 0,
    host: '127.0.0.1',
    process: { killGraceMs: 300 },
    worker: {
      queues: ['proc'],
      concurrency: 8,
      pollIntervalMs: 50,
      timeoutGraceMs: 2000,
      backoff: { baseMs: 1, maxMs: 1 },
      promoteIntervalMs: 20,
    },
  });
});
afterAll(async () => {
  await app?.stop();
  await db?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

const finished = (id: number) =>
  waitFor(
    async () => {
      const j = await db.jl.getJob(id);
      return ['completed', 'failed', 'cancelled'].includes(j.state) ? j : undefined;
    },
    20_000,
    `job ${id} to finish`,
  );

describe('process jobs', () => {
  it('runs the command with input on stdin and takes stdout JSON as output, env merged and secrets passed only by name', async () => {
    const job = await db.jl.enqueue({ definition: 'echo', input: { n: 1, s: 'ünïcode' } });
    const done = await finished(job.id);
    expect(done.state).toBe('completed');
    expect(done.output).toEqual({
      input: { n: 1, s: 'ünïcode' },
      env: {
        GREETING: 'hi',
        SECRET: 's3cret',
        DATABASE_URL: null,
        JOBLINE_JOB_ID: String(job.id),
        JOBLINE_ATTEMPT: '1',
        JOBLINE_DEFINITION: 'echo@1',
      },
    });
  });

  it('takes the last line as output when the program logs to stdout first', async () => {
    const job = await db.jl.enqueue({ definition: 'logs', input: { a: 2, b: 3 } });
    expect((await finished(job.id)).output).toEqual({ sum: 5 });
  });

  it('records a non-zero exit with its code and the tail of stderr', async () => {
    const job = await db.jl.enqueue({ definition: 'exit3' });
    const done = await finished(job.id);
    expect(done.state).toBe('failed');
    expect(done.error).toMatchObject({ code: 'PROCESS_EXIT', name: 'ProcessExitError' });
    expect(done.error!.message).toMatch(/exited with code 3/);
    expect(done.error!.message).toMatch(/fatal: the widget is broken$/);
    expect(done.error!.message).not.toMatch(/noise line 0\n/); // only the tail is kept
    expect(done.error!.message.length).toBeLessThan(5000);
    const [exec] = await db.jl.executions(job.id);
    expect(exec).toMatchObject({ attempt: 1, state: 'failed' });
  });

  it('kills the whole process group on timeout, SIGKILL after the grace when SIGTERM is ignored', async () => {
    const pidFile = join(dir, 'timeout.json');
    const job = await db.jl.enqueue({ definition: 'hang', input: { pidFile } });
    const done = await finished(job.id);
    expect(done.state).toBe('failed');
    expect(done.error?.code).toBe('TIMEOUT');
    const [exec] = await db.jl.executions(job.id);
    expect(exec.state).toBe('timed_out');
    const pids: number[] = JSON.parse(await readFile(pidFile, 'utf8'));
    expect(pids).toHaveLength(2);
    await waitFor(() => pids.every(dead), 10_000, 'the program and its child to be gone');
  });

  it('kills the process group when the job is cancelled', async () => {
    const pidFile = join(dir, 'cancel.json');
    const job = await db.jl.enqueue({ definition: 'hang-long', input: { pidFile } });
    await waitFor(() => existsSync(pidFile) && readFileSync(pidFile, 'utf8').length > 0, 20_000, 'the program to start');
    const pids: number[] = JSON.parse(await readFile(pidFile, 'utf8'));
    expect(pids.some((p) => !dead(p))).toBe(true);
    await db.jl.cancel(job.id);
    await waitFor(() => pids.every(dead), 10_000, 'the program and its child to be gone');
    expect((await db.jl.getJob(job.id)).state).toBe('cancelled');
    const [exec] = await db.jl.executions(job.id);
    expect(exec.state).toBe('cancelled');
  });

  it('fails without retry when stdout is not JSON', async () => {
    const job = await db.jl.enqueue({ definition: 'badjson' });
    const done = await finished(job.id);
    expect(done).toMatchObject({ state: 'failed', attempt: 1 });
    expect(done.error).toMatchObject({ code: 'BAD_OUTPUT', retryable: false });
  });

  it('fails clearly when the command does not exist', async () => {
    const job = await db.jl.enqueue({ definition: 'missing-cmd' });
    const done = await finished(job.id);
    expect(done.state).toBe('failed');
    expect(done.error).toMatchObject({ code: 'ENOENT' });
    expect(done.error!.message).toMatch(/could not start "jobline-no-such-command"/);
  });
});

describe('handler jobs', () => {
  it('runs handlers from the module: named exports, default-export names, retries', async () => {
    const a = await db.jl.enqueue({ queue: 'proc', name: 'greet', input: { who: 'ada' } });
    const b = await db.jl.enqueue({ queue: 'proc', name: 'sleep-ms', input: { ms: 20 } });
    const c = await db.jl.enqueue({ queue: 'proc', name: 'fail-twice', maxAttempts: 3 });
    expect((await finished(a.id)).output).toEqual({ hello: 'ada', attempt: 1 });
    expect(await finished(b.id)).toMatchObject({ output: { slept: 20 }, progress: 100 });
    const cc = await finished(c.id);
    expect(cc).toMatchObject({ state: 'completed', attempt: 3 });
    expect((await db.jl.executions(c.id)).map((e) => e.state)).toEqual(['failed', 'failed', 'completed']);
  });

  it('runs a handler definition by its name, and fails clearly when the module lacks it', async () => {
    const ok = await db.jl.enqueue({ definition: 'greet', input: { who: 'def' } });
    expect((await finished(ok.id)).output).toEqual({ hello: 'def', attempt: 1 });
    const missing = await db.jl.enqueue({ definition: 'unhandled' });
    const done = await finished(missing.id);
    expect(done.state).toBe('failed');
    expect(done.error?.code).toBe('NO_HANDLER');
    expect(done.error?.message).toMatch(/does not export/);
  });

  it('refuses a handler module without handlers', async () => {
    await expect(loadHandlers(PROGRAM.replace('app-process-job', 'no-such-module'))).rejects.toThrow(/cannot load handler module/);
  });
});

describe('health and metrics', () => {
  /** The worker app's counters for queue "proc" (0 when a series has not appeared yet). */
  async function counters() {
    const text = await (await fetch(`${app.url}/metrics`)).text();
    const value = (name: string, labels = '') =>
      Number(new RegExp(`^jobline_worker_${name}\\{queue="proc"${labels}\\} (\\d+)$`, 'm').exec(text)?.[1] ?? 0);
    return {
      text,
      claimed: value('jobs_claimed_total'),
      completed: value('jobs_completed_total'),
      failed: value('jobs_failed_total'),
      retried: value('jobs_retried_total'),
      timedOut: value('jobs_timed_out_total'),
      cancelled: value('jobs_interrupted_total', ',reason="cancelled"'),
    };
  }

  it('serves /healthz, /readyz and Prometheus metrics for what ran', async () => {
    const h = await fetch(`${app.url}/healthz`);
    expect(h.status).toBe(200);
    expect(await h.json()).toEqual({ status: 'ok', workerId: app.worker.id });
    const r = await fetch(`${app.url}/readyz`);
    expect(await r.json()).toEqual({ status: 'ready', checks: { database: true, migrationsCurrent: true, workerRunning: true } });
    // Its own jobs, counted as differences, so the test passes alone and after any other test.
    await waitFor(() => app.worker.inFlight === 0, 20_000, 'earlier jobs to settle');
    const before = await counters();
    const pidFile = join(dir, 'metrics-cancel.json');
    const ok = await db.jl.enqueue({ queue: 'proc', name: 'greet' });
    const retried = await db.jl.enqueue({ queue: 'proc', name: 'fail-twice', maxAttempts: 3 });
    const failed = await db.jl.enqueue({ definition: 'exit3' });
    const timedOut = await db.jl.enqueue({ definition: 'hang', input: { pidFile: join(dir, 'metrics-timeout.json') } });
    const cancelled = await db.jl.enqueue({ definition: 'hang-long', input: { pidFile } });
    await waitFor(() => existsSync(pidFile) && readFileSync(pidFile, 'utf8').length > 0, 20_000, 'the program to start');
    await db.jl.cancel(cancelled.id);
    for (const j of [ok, retried, failed, timedOut]) await finished(j.id);
    await waitFor(async () => (await counters()).claimed - before.claimed >= 7 && app.worker.inFlight === 0, 20_000, 'the counters');
    const after = await counters();
    expect({
      claimed: after.claimed - before.claimed,
      completed: after.completed - before.completed,
      retried: after.retried - before.retried,
      timedOut: after.timedOut - before.timedOut,
      cancelled: after.cancelled - before.cancelled,
    }).toEqual({ claimed: 7, completed: 2, retried: 2, timedOut: 1, cancelled: 1 });
    expect(after.failed - before.failed).toBeGreaterThanOrEqual(1); // exit3 (a timeout may count here too)
    const text = after.text;
    expect(text).toMatch(/^jobline_worker_handler_duration_seconds_bucket\{queue="proc",outcome="completed",le="\+Inf"\} \d+$/m);
    expect(text).toMatch(/^jobline_worker_queue_wait_seconds_count\{queue="proc"\} \d+$/m);
    expect(text).toMatch(/^jobline_worker_claim_batch_size_count \d+$/m);
    expect(text).toMatch(/^jobline_worker_in_flight 0$/m);
    expect(text).toMatch(/^jobline_worker_concurrency 8$/m);
  });
});
