import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openTestDb, waitFor, type TestDb } from './helpers/db.js';
import { JOBLINE_BIN, runJobline, type CliResult } from './helpers/cli.js';

const HANDLERS = fileURLToPath(new URL('./fixtures/app-handlers.mjs', import.meta.url));

let db: TestDb;
let dir: string;
beforeAll(async () => {
  db = await openTestDb();
  dir = await mkdtemp(join(tmpdir(), 'jl-cli-'));
});
afterAll(async () => {
  await db?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

/** Runs the built `jobline` binary. `env: null` for a variable removes it. */
const jobline = (args: string[], env: Record<string, string | null> = {}): Promise<CliResult> => runJobline(db, args, env);

const COMMANDS = ['migrate', 'demo', 'producer', 'worker', 'enqueue', 'dag', 'status', 'events', 'bench'];

describe('help and usage', () => {
  it('jobline --help lists every command; no command is a usage error', async () => {
    const r = await jobline(['--help']);
    expect(r.code).toBe(0);
    for (const c of COMMANDS) expect(r.stdout).toMatch(new RegExp(`^  ${c} `, 'm'));
    expect(r.stdout).toMatch(/Exit codes: 0 ok, 1 .*, 2 bad usage/);
    const none = await jobline([]);
    expect(none.code).toBe(2);
    expect(none.stdout).toMatch(/Commands:/);
  });

  it('every command has --help (exit 0) and unknown commands or flags exit 2', async () => {
    for (const c of [...COMMANDS, 'cancel', 'definitions']) {
      const r = await jobline([c, '--help']);
      expect(r.code, c).toBe(0);
      expect(r.stdout, c).toMatch(new RegExp(`^Usage: jobline ${c}`));
    }
    expect((await jobline(['frobnicate'])).code).toBe(2);
    const flag = await jobline(['status', '1', '--frobnicate']);
    expect(flag.code).toBe(2);
    expect(flag.stderr).toMatch(/usage: jobline status/);
    expect((await jobline(['--version'])).stdout).toMatch(/^\d+\.\d+\.\d+/);
  });

  it('commands that need a database say so when DATABASE_URL is missing (exit 2)', async () => {
    const r = await jobline(['status', '1'], { DATABASE_URL: null });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/DATABASE_URL is not set/);
  });

  it('an unreachable database is a failure (exit 1) with a short message', async () => {
    const r = await jobline(['status', '1'], { DATABASE_URL: 'postgres://nobody@127.0.0.1:1/none' });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/cannot use the database/);
  });
});

describe('migrate', () => {
  it('applies migrations to a new schema, then reports it current; --json', async () => {
    const schema = `${db.schema}_m`;
    const first = await jobline(['migrate'], { JOBLINE_SCHEMA: schema });
    expect(first.code).toBe(0);
    expect(first.stdout).toMatch(/applied \d+ migration\(s\) to schema/);
    const again = await jobline(['migrate', '--json'], { JOBLINE_SCHEMA: schema });
    expect(again.code).toBe(0);
    expect(JSON.parse(again.stdout)).toMatchObject({ schema, applied: [] });
    await db.sql(`drop schema "${schema}" cascade`);
  });
});

describe('enqueue, status, cancel', () => {
  it('enqueues a job and shows it with status (human and --json)', async () => {
    const r = await jobline(['enqueue', 'cli', 'greet', '--input', '{"who":"cli"}', '--priority=-5', '--json']);
    expect(r.code).toBe(0);
    const job = JSON.parse(r.stdout);
    expect(job).toMatchObject({ queue: 'cli', name: 'greet', priority: -5, input: { who: 'cli' }, state: 'available', created: true });
    const s = await jobline(['status', String(job.id)]);
    expect(s.code).toBe(0);
    expect(s.stdout).toMatch(new RegExp(`^job ${job.id}  greet  \\(queue cli\\)`));
    expect(s.stdout).toMatch(/state +available/);
    expect(s.stdout).toMatch(/attempts \(0\)/);
    const js = JSON.parse((await jobline(['status', String(job.id), '--json'])).stdout);
    expect(js).toMatchObject({ job: { id: job.id }, attempts: [] });
  });

  it('status shows every attempt once the job ran', async () => {
    const job = await db.jl.enqueue({ queue: 'cli-run', name: 'flaky', maxAttempts: 3 });
    const worker = db.jl.worker({
      queues: ['cli-run'],
      backoff: { baseMs: 1, maxMs: 1 },
      promoteIntervalMs: 20,
      handlers: { flaky: async (_i, ctx) => (ctx.attempt === 1 ? Promise.reject(new Error('transient glitch')) : { ok: true }) },
    });
    await worker.start();
    try {
      await waitFor(async () => (await db.jl.getJob(job.id)).state === 'completed', 20_000, 'job to complete');
    } finally {
      await worker.stop();
    }
    const s = await jobline(['status', String(job.id)]);
    expect(s.stdout).toMatch(/attempt +2 of 3/);
    expect(s.stdout).toMatch(/attempts \(2\)/);
    expect(s.stdout).toMatch(/^ +1 +failed .*transient glitch$/m);
    expect(s.stdout).toMatch(/^ +2 +completed .*\{"ok":true\}$/m);
  });

  it('exit codes: bad input 2, unknown id 1, malformed id 2', async () => {
    const badJson = await jobline(['enqueue', 'cli', 'x', '--input', '{nope']);
    expect(badJson.code).toBe(2);
    expect(badJson.stderr).toMatch(/--input is not valid JSON/);
    const badQueue = await jobline(['enqueue', 'no spaces', 'x']);
    expect(badQueue.code).toBe(2);
    expect(badQueue.stderr).toMatch(/queue: queue names use/);
    expect((await jobline(['enqueue', 'cli'])).code).toBe(2);
    const missing = await jobline(['status', '987654321']);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/job 987654321 does not exist/);
    expect((await jobline(['status', 'abc'])).code).toBe(2);
    const jsonErr = await jobline(['status', '987654321', '--json']);
    expect(JSON.parse(jsonErr.stdout)).toMatchObject({ error: { code: 'NOT_FOUND' } });
  });

  it('cancel: 0, then 1 once finished', async () => {
    const job = await db.jl.enqueue({ queue: 'cli', name: 'to-cancel' });
    const c = await jobline(['cancel', String(job.id)]);
    expect(c.code).toBe(0);
    expect((await db.jl.getJob(job.id)).state).toBe('cancelled');
    const again = await jobline(['cancel', String(job.id)]);
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/already cancelled/);
  });

  it('bulk enqueue with --count, in batches', async () => {
    const r = await jobline(['enqueue', 'bulk', 'noop', '--count', '2500', '--json']);
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.count).toBe(2500);
    const [row] = await db.sql(`select count(*)::int as n from "${db.schema}".jobs where queue = 'bulk'`);
    expect(row.n).toBe(2500);
    expect(r.stderr).toMatch(/2500\/2500 jobs enqueued/);
  });

  it('--wait exits 1 when the job fails', async () => {
    const worker = db.jl.worker({
      queues: ['cli-wait'],
      handlers: { boom: async () => Promise.reject(new Error('kaput')), fine: async () => 1 },
    });
    await worker.start();
    try {
      const bad = await jobline(['enqueue', 'cli-wait', 'boom', '--max-attempts', '1', '--wait']);
      expect(bad.code).toBe(1);
      expect(bad.stdout).toMatch(/failed: kaput/);
      const good = await jobline(['enqueue', 'cli-wait', 'fine', '--wait', '--quiet']);
      expect(good.code).toBe(0);
      expect(good.stdout).toMatch(/^\d+\n$/);
    } finally {
      await worker.stop();
    }
  });
});

describe('definitions and dags', () => {
  it('registers a definition from a file and enqueues by it', async () => {
    const file = join(dir, 'def.json');
    await writeFile(
      file,
      JSON.stringify({
        name: 'cli-def',
        executor: 'handler',
        inputSchema: { type: 'object', required: ['n'] },
        defaults: { queue: 'cli-defq' },
      }),
    );
    const c = await jobline(['definitions', 'create', file]);
    expect(c.code).toBe(0);
    expect(c.stdout).toMatch(/registered cli-def@1/);
    expect((await jobline(['definitions', 'create', file])).stdout).toMatch(/unchanged: cli-def@1/);
    const list = await jobline(['definitions', 'list']);
    expect(list.stdout).toMatch(/^NAME +VERSION +EXECUTOR/);
    expect(list.stdout).toMatch(/^cli-def +1 +handler/m);
    const bad = await jobline(['enqueue', 'x', '-', '--definition', 'cli-def', '--input', '{}']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/input: .*cli-def@1 input schema/);
    const ok = await jobline(['enqueue', 'cli-defq', '-', '--definition', 'cli-def', '--input', '{"n":1}', '--json']);
    expect(JSON.parse(ok.stdout)).toMatchObject({ name: 'cli-def', queue: 'cli-defq', definition: 'cli-def@1' });
  });

  it('dag submit, status dag:<id>, dag cancel', async () => {
    const file = join(dir, 'dag.json');
    await writeFile(
      file,
      JSON.stringify({
        name: 'cli-dag',
        nodes: [
          { key: 'a', queue: 'cli-dag', name: 'x' },
          { key: 'b', queue: 'cli-dag', name: 'y', dependsOn: ['a'] },
        ],
      }),
    );
    const s = await jobline(['dag', 'submit', file, '--json']);
    expect(s.code).toBe(0);
    const run = JSON.parse(s.stdout);
    expect(run).toMatchObject({ name: 'cli-dag', state: 'running', created: true });
    const st = await jobline(['status', `dag:${run.id}`]);
    expect(st.code).toBe(0);
    expect(st.stdout).toMatch(new RegExp(`^dag:${run.id}  cli-dag  running`));
    expect(st.stdout).toMatch(/^ +a +available/m);
    expect(st.stdout).toMatch(/^ +b +waiting .* a /m);
    expect((await jobline(['status', '--dag', String(run.id), '--json'])).code).toBe(0);
    expect((await jobline(['dag', 'cancel', String(run.id)])).code).toBe(0);
    expect((await db.jl.getDag(run.id)).state).toBe('cancelled');
    expect((await jobline(['dag', 'cancel', String(run.id)])).code).toBe(1);
    const bad = join(dir, 'cycle.json');
    await writeFile(
      bad,
      JSON.stringify({
        name: 'c',
        nodes: [
          { key: 'a', name: 'x', dependsOn: ['b'] },
          { key: 'b', name: 'x', dependsOn: ['a'] },
        ],
      }),
    );
    const cyc = await jobline(['dag', 'submit', bad]);
    expect(cyc.code).toBe(2);
    expect(cyc.stderr).toMatch(/cycle/i);
  });
});

describe('events tail', () => {
  it('prints outbox events (no NATS_URL) as lines or NDJSON, filtered, up to --count', async () => {
    const a = await db.jl.enqueue({ queue: 'ev', name: 'first' });
    await db.jl.enqueue({ queue: 'ev-other', name: 'noise' });
    await db.jl.cancel(a.id);
    const r = await jobline(['events', 'tail', '--queue', 'ev', '--from', 'all', '--count', '2', '--json']);
    expect(r.code).toBe(0);
    const events = r.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(events.map((e) => e.type)).toEqual(['dev.jobline.job.enqueued', 'dev.jobline.job.cancelled']);
    expect(events[0]).toMatchObject({ specversion: '1.0', subject: String(a.id), data: { jobId: a.id, queue: 'ev', name: 'first' } });
    const human = await jobline(['events', 'tail', '--job', String(a.id), '--event', 'cancelled', '--from', 'all', '--count', '1']);
    expect(human.code).toBe(0);
    expect(human.stdout).toMatch(new RegExp(`^\\d\\d:\\d\\d:\\d\\d\\.\\d{3}  job\\.cancelled +job ${a.id}  ev/first`));
    const bad = await jobline(['events', 'tail', '--queue', 'ev', '--dag', '1']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/queue/);
  });
});

describe('apps through the CLI', () => {
  it('jobline worker runs jobs with the handler module and stops on SIGTERM (exit 0)', async () => {
    const child = spawn(
      process.execPath,
      [JOBLINE_BIN, 'worker', '--queues', 'cli-w', '--handlers', HANDLERS, '--concurrency', '2', '--port', 'off'],
      {
        env: { PATH: process.env.PATH, DATABASE_URL: db.url, JOBLINE_SCHEMA: db.schema, LOG_LEVEL: 'warn' },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    const exited = new Promise<number | null>((r) => child.on('exit', (c) => r(c)));
    try {
      await new Promise<void>((resolve) => child.stdout.on('data', (d) => String(d).includes('ready') && resolve()));
      const job = await db.jl.enqueue({ queue: 'cli-w', name: 'greet', input: { who: 'via cli' } });
      await waitFor(async () => (await db.jl.getJob(job.id)).state === 'completed', 20_000, 'job to complete');
      expect((await db.jl.getJob(job.id)).output).toEqual({ hello: 'via cli', attempt: 1 });
      child.kill('SIGTERM');
      expect(await exited).toBe(0);
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
    }
  });

  it('jobline worker passes bad flags to the app, which exits 2', async () => {
    const r = await jobline(['worker', '--concurrency', 'zero']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--concurrency/);
  });

  it('jobline producer serves the API and stops on SIGTERM (exit 0)', async () => {
    const child = spawn(process.execPath, [JOBLINE_BIN, 'producer', '--port', '0', '--host', '127.0.0.1'], {
      env: { PATH: process.env.PATH, DATABASE_URL: db.url, JOBLINE_SCHEMA: db.schema, LOG_LEVEL: 'warn', JOBLINE_AUTH: 'off' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const exited = new Promise<number | null>((r) => child.on('exit', (c) => r(c)));
    try {
      const url = await new Promise<string>((resolve) => {
        let buf = '';
        child.stdout.on('data', (d) => {
          buf += d;
          const m = /listening on (\S+)/.exec(buf);
          if (m) resolve(m[1]);
        });
      });
      const res = await fetch(`${url}/v1/jobs`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: '{"queue":"cli-p","name":"x"}',
      });
      expect(res.status).toBe(201);
      child.kill('SIGTERM');
      expect(await exited).toBe(0);
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
    }
  });

  it('jobline bench hands its arguments to bench/run.mjs', async () => {
    const r = await jobline(['bench', '--', '--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/node bench\/run\.mjs \[--quick\]/);
  });
});

describe('demo', () => {
  it('runs the whole demo against DATABASE_URL, prints the summary, and cleans up', async () => {
    const r = await jobline(['demo', '--json'], { LOG_LEVEL: 'info' });
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.complete).toBe(true);
    const q = Object.fromEntries(out.queues.map((x: any) => [x.queue, x]));
    expect(q.emails).toMatchObject({ jobs: 400, done: 400, failed: 0 });
    expect(q.media).toMatchObject({ done: 8, failed: 0 });
    expect(q.billing).toMatchObject({ jobs: 7, done: 6, failed: 1, retried: 4 });
    expect(out.failedJob).toMatchObject({ name: 'import-ledger', state: 'failed', attempt: 3 });
    expect(r.stderr).toMatch(/Summary per queue/);
    expect(r.stderr).toMatch(/Where to look next/);
    // the throwaway schema is gone
    const left = await db.sql(`select nspname from pg_namespace where nspname like 'jobline_demo_%'`);
    expect(left).toEqual([]);
  });
});
