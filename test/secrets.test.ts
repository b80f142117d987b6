/**
 * Secrets (issue 7): a definition names secret variables (`secretEnv`) that the worker passes
 * from its own environment to the process job. Their values never reach the database, the
 * events, the API's view of the definition, or the logs (captured here at debug level).
 */
import { Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import pino from 'pino';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startWorkerApp, type WorkerApp } from '@jobline/worker';
import { openTestDb, waitFor, type TestDb } from './helpers/db.js';

const PROGRAM = fileURLToPath(new URL('./fixtures/app-process-job.mjs', import.meta.url));
const SECRET = 'tr0ub4dor-&-3-very-secret';
const logs: string[] = [];
let db: TestDb;
let app: WorkerApp;

beforeAll(async () => {
  const sink = new Writable({ write: (chunk, _enc, done) => (logs.push(String(chunk)), done()) });
  db = await openTestDb({ logger: pino({ level: 'debug' }, sink) });
  process.env.JL_TEST_SECRET = SECRET;
  for (const mode of ['leak', 'leakout']) {
    await db.jl.createDefinition({
      name: `${mode}-secret`,
      executor: 'process',
      command: process.execPath,
      args: [PROGRAM, mode],
      secretEnv: ['JL_TEST_SECRET'],
      defaults: { queue: 'sec', maxAttempts: 1 },
    });
  }
  await db.jl.createDefinition({
    name: 'uses-secret',
    executor: 'process',
    command: process.execPath,
    args: [PROGRAM, 'secretlen'],
    secretEnv: ['JL_TEST_SECRET'],
    env: { PLAIN: 'visible' },
    defaults: { queue: 'sec' },
  });
  app = await startWorkerApp({ jl: db.jl, handlers: {}, port: 0, host: '127.0.0.1', worker: { queues: ['sec'], pollIntervalMs: 50 } });
});
afterAll(async () => {
  await app?.stop();
  await db?.close();
  delete process.env.JL_TEST_SECRET;
});

it('a secret passed to a process job appears nowhere: job, history, events, definition, logs', async () => {
  const job = await db.jl.enqueue({ definition: 'uses-secret', input: { x: 1 } });
  await waitFor(async () => (await db.jl.getJob(job.id)).state === 'completed', 20_000, 'the process job');
  expect((await db.jl.getJob(job.id)).output).toEqual({ secretLength: SECRET.length }); // it did receive it
  const S = `"${db.schema}"`;
  const dump = await db.sql(`
    select (select coalesce(string_agg(t::text, ''), '') from ${S}.jobs t) ||
           (select coalesce(string_agg(t::text, ''), '') from ${S}.job_executions t) ||
           (select coalesce(string_agg(t::text, ''), '') from ${S}.events t) ||
           (select coalesce(string_agg(t::text, ''), '') from ${S}.job_definitions t) as everything`);
  expect(dump[0].everything).toContain('uses-secret');
  expect(dump[0].everything).not.toContain(SECRET);
  expect(JSON.stringify(await db.jl.getDefinition('uses-secret'))).not.toContain(SECRET);
  expect(logs.length).toBeGreaterThan(0);
  expect(logs.join('')).not.toContain(SECRET);
});

it('a failing process that prints its secret: the error (stderr tail, stdout head), events and logs carry it redacted', async () => {
  const logsBefore = logs.length;
  const jobs = [await db.jl.enqueue({ definition: 'leak-secret' }), await db.jl.enqueue({ definition: 'leakout-secret' })];
  for (const j of jobs) await waitFor(async () => (await db.jl.getJob(j.id)).state === 'failed', 20_000, `${j.name} to fail`);
  const [stderrJob, stdoutJob] = await Promise.all(jobs.map((j) => db.jl.getJob(j.id)));
  // the failure is recorded with what the program said, the secret replaced by its name
  expect(JSON.stringify(stderrJob.error)).toMatch(/connecting with password \[secret JL_TEST_SECRET\]\\nfatal: refused/);
  expect(JSON.stringify(stdoutJob.error)).toMatch(/token=\[secret JL_TEST_SECRET\] and no JSON/);
  const S = `"${db.schema}"`;
  const dump = await db.sql(`
    select (select coalesce(string_agg(t::text, ''), '') from ${S}.jobs t) ||
           (select coalesce(string_agg(t::text, ''), '') from ${S}.job_executions t) ||
           (select coalesce(string_agg(t::text, ''), '') from ${S}.events t) as everything`);
  expect(dump[0].everything).toContain('[secret JL_TEST_SECRET]');
  expect(dump[0].everything).not.toContain(SECRET);
  // debug logging of the failing attempts (the logger is at debug) says so without the secret
  const newLogs = logs.slice(logsBefore).join('');
  expect(newLogs).toContain('"level":20'); // debug lines were written
  expect(newLogs).toContain(String(stderrJob.id));
  expect(newLogs).not.toContain(SECRET);
});
