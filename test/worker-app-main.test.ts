import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openTestDb, waitFor, type TestDb } from './helpers/db.js';

const MAIN = fileURLToPath(new URL('../apps/worker/dist/main.js', import.meta.url));
const HANDLERS = fileURLToPath(new URL('./fixtures/app-handlers.mjs', import.meta.url));

let db: TestDb;
const children: ChildProcess[] = [];
beforeAll(async () => {
  db = await openTestDb();
});
afterAll(async () => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  await db?.close();
});

interface Run {
  child: ChildProcess;
  stdout(): string;
  stderr(): string;
  exited: Promise<number | null>;
  ready: Promise<string>;
}

function start(args: string[], env: Record<string, string> = {}): Run {
  const child = spawn(process.execPath, [MAIN, ...args], {
    env: { PATH: process.env.PATH!, DATABASE_URL: db.url, JOBLINE_SCHEMA: db.schema, LOG_LEVEL: 'info', PORT: 'off', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  let out = '';
  let err = '';
  child.stderr!.on('data', (d) => (err += d));
  const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
  const ready = new Promise<string>((resolve, reject) => {
    child.stdout!.on('data', (d) => {
      out += d;
      const m = /jobline worker (\S+) ready/.exec(out);
      if (m) resolve(m[1]);
    });
    void exited.then((code) => reject(new Error(`worker exited with ${code}: ${err}`)));
  });
  ready.catch(() => {});
  return { child, stdout: () => out, stderr: () => err, exited, ready };
}

describe('worker main', () => {
  it('exits 2 naming each bad flag or variable', async () => {
    const r = start(['--concurrency', 'lots', '--queues', 'bad queue'], { LOG_LEVEL: 'chatty' });
    expect(await r.exited).toBe(2);
    expect(r.stderr()).toMatch(/--concurrency: must be an integer|--concurrency: .*number/);
    expect(r.stderr()).toMatch(/--queues/);
    expect(r.stderr()).toMatch(/LOG_LEVEL/);
  });

  it('exits 2 for an unknown flag and for a handler module that does not load', async () => {
    const unknown = start(['--frobnicate']);
    expect(await unknown.exited).toBe(2);
    expect(unknown.stderr()).toMatch(/usage: jobline worker/);
    const missing = start(['--handlers', './no/such/module.js']);
    expect(await missing.exited).toBe(2);
    expect(missing.stderr()).toMatch(/cannot load handler module/);
  });

  it('runs jobs with the handler module, logs job id, queue, attempt and worker id, and stops gracefully on SIGTERM', async () => {
    const r = start(['--queues', 'main-a,main-b', '--concurrency', '4', '--handlers', HANDLERS, '--shutdown-grace-ms', '20000']);
    const workerId = await r.ready;
    const quick = await db.jl.enqueue({ queue: 'main-b', name: 'greet', input: { who: 'main' } });
    await waitFor(async () => (await db.jl.getJob(quick.id)).state === 'completed', 20_000, 'greet to complete');
    // a job still running when SIGTERM arrives is allowed to finish
    const slow = await db.jl.enqueue({ queue: 'main-a', name: 'sleep-ms', input: { ms: 1500 } });
    await waitFor(async () => (await db.jl.getJob(slow.id)).state === 'running', 20_000, 'sleep to start');
    r.child.kill('SIGTERM');
    expect(await r.exited).toBe(0);
    expect(await db.jl.getJob(slow.id)).toMatchObject({ state: 'completed', output: { slept: 1500 } });
    const [row] = await db.sql(`select stopped_at from "${db.schema}".workers where id = $1`, [workerId]);
    expect(row.stopped_at).toBeInstanceOf(Date);
    const line = r
      .stderr()
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l))
      .find((l) => l.msg === 'greeting');
    expect(line).toMatchObject({ jobId: quick.id, queue: 'main-b', attempt: 1, workerId, who: 'main' });
  });

  it('a second SIGTERM forces: running jobs are released for other workers at once', async () => {
    const r = start(['--queues', 'force', '--handlers', HANDLERS, '--shutdown-grace-ms', '60000']);
    await r.ready;
    const job = await db.jl.enqueue({ queue: 'force', name: 'sleep-ms', input: { ms: 60_000 } });
    await waitFor(async () => (await db.jl.getJob(job.id)).state === 'running', 20_000, 'sleep to start');
    r.child.kill('SIGTERM');
    await new Promise((res) => setTimeout(res, 200));
    r.child.kill('SIGTERM');
    expect(await r.exited).toBe(0);
    const after = await db.jl.getJob(job.id);
    expect(after.state).toBe('available');
    expect((await db.jl.executions(job.id)).map((e) => e.state)).toEqual(['released']);
  });

  it('serves health and metrics on --port', async () => {
    const r = start(['--queues', 'hm', '--port', '0', '--host', '127.0.0.1']);
    await r.ready;
    const url = /health on (\S+)\)/.exec(r.stdout())![1];
    expect((await fetch(`${url}/readyz`)).status).toBe(200);
    expect(await (await fetch(`${url}/metrics`)).text()).toMatch(/^jobline_worker_in_flight 0$/m);
    r.child.kill('SIGTERM');
    expect(await r.exited).toBe(0);
  });
});
