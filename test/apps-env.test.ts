/**
 * The apps configured only through environment variables, the way docker-compose.yml runs them:
 * `jobline migrate` once, then the producer and a worker with JOBLINE_MIGRATE=off, the demo
 * handlers by JOBLINE_HANDLERS, tokens by JOBLINE_API_TOKENS, NATS by NATS_URL (a nats-server of
 * this test's own, so the default JOBLINE stream is not shared). A job goes in over HTTP with the
 * compose file's example request and comes out completed by the named worker, its events on the
 * stream; `jobline events tail` follows them live from NATS.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { freePort } from '@jobline/embedded';
import { databaseUrl, uniqueSchema, waitFor } from './helpers/db.js';
import { JOBLINE_BIN } from './helpers/cli.js';
import { isCI } from './helpers/ci.js';
// @ts-expect-error plain ESM helper without types
import { NATS_SERVER, ownNatsServer, readStream } from './fixtures/events-nats.mjs';
import { existsSync } from 'node:fs';
import pg from 'pg';

const app = (p: string) => fileURLToPath(new URL(`../apps/${p}`, import.meta.url));
const hasNats = existsSync(NATS_SERVER);
if (!hasNats && isCI()) throw new Error(`CI=${process.env.CI} and nats-server (${NATS_SERVER}) is missing: this test must not be skipped`);

const TOKEN = 'dev-token-change-me-0123456789';
const schema = uniqueSchema('compose');
let nats: { url: string; start(): Promise<void>; dispose(): Promise<void> };
const children: { child: ChildProcess; exited: Promise<number | string | null>; out: () => string }[] = [];

/** Starts a node program with exactly `env` (plus PATH), collecting stdout and stderr. */
function start(args: string[], env: Record<string, string>) {
  const child = spawn(process.execPath, args, { env: { PATH: process.env.PATH!, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  const exited = new Promise<number | string | null>((r) => child.on('exit', (code, sig) => r(code ?? sig)));
  const p = { child, exited, out: () => out };
  children.push(p);
  return p;
}

beforeAll(async () => {
  if (!hasNats) return;
  nats = ownNatsServer(await freePort());
  await nats.start();
});
afterAll(async () => {
  for (const c of children) if (c.child.exitCode === null && c.child.signalCode === null) c.child.kill('SIGKILL');
  await Promise.all(children.map((c) => c.exited));
  await nats?.dispose();
  const admin = new pg.Client({ connectionString: databaseUrl() });
  await admin.connect();
  await admin.query(`drop schema if exists "${schema}" cascade`);
  await admin.end();
});

it.skipIf(!hasNats)(
  'migrate, producer and worker configured by environment as in docker-compose.yml; events tail follows live from NATS',
  { timeout: 120_000 },
  async () => {
    // x-env in docker-compose.yml, pointed at this machine
    const env = { DATABASE_URL: databaseUrl(), JOBLINE_SCHEMA: schema, NATS_URL: nats.url, LOG_LEVEL: 'info', JOBLINE_MIGRATE: 'off' };
    const migrate = start([JOBLINE_BIN, 'migrate'], env);
    expect(await migrate.exited, migrate.out()).toBe(0);

    const [producerPort, workerPort] = [await freePort(), await freePort()];
    const producer = start([app('producer/dist/main.js')], {
      ...env,
      PORT: String(producerPort),
      JOBLINE_API_TOKENS: `[{"name":"dev","token":"${TOKEN}","queues":["*"],"scopes":["read","write","admin"]}]`,
    });
    const worker = start([app('worker/dist/main.js')], {
      ...env,
      PORT: String(workerPort),
      JOBLINE_QUEUES: 'emails,reports,media,billing',
      JOBLINE_CONCURRENCY: '16',
      JOBLINE_HANDLERS: app('cli/dist/demo/handlers.js'),
      JOBLINE_SHUTDOWN_GRACE_MS: '20000',
      JOBLINE_WORKER_ID: 'worker-1',
    });
    await waitFor(() => /listening on/.test(producer.out()), 30_000, `the producer to listen: ${producer.out()}`);
    await waitFor(() => /jobline worker worker-1 ready/.test(worker.out()), 30_000, `the worker to be ready: ${worker.out()}`);
    const api = `http://127.0.0.1:${producerPort}`;
    const call = async (method: string, path: string, body?: unknown) => {
      const r = await fetch(`${api}${path}`, {
        method,
        headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      return { status: r.status, body: (await r.json()) as any };
    };
    expect((await fetch(`${api}/readyz`)).status).toBe(200);
    expect((await fetch(`http://127.0.0.1:${workerPort}/readyz`)).status).toBe(200);

    // the compose file's example request
    const created = await call('POST', '/v1/jobs', {
      queue: 'emails',
      name: 'send-email',
      input: { to: 'ada@example.com', template: 'welcome' },
    });
    expect(created.status).toBe(201);
    const done = await waitFor(
      async () => {
        const j = (await call('GET', `/v1/jobs/${created.body.id}`)).body;
        return j.state === 'completed' ? j : undefined;
      },
      30_000,
      'the email job to complete',
    );
    expect(done.output).toEqual({ messageId: `msg-${created.body.id}`, to: 'ada@example.com' });
    expect(
      (await call('GET', `/v1/jobs/${created.body.id}/executions`)).body.executions.map((e: { workerId: string }) => e.workerId),
    ).toEqual(['worker-1']);
    // its events reached the stream of this NATS (the worker's relay publishes them)
    await waitFor(
      async () => (await readStream(nats.url, 'JOBLINE')).filter((m: any) => m.event.subject === String(created.body.id)).length === 3,
      30_000,
      'the three events on the stream',
    );

    // `jobline events tail` live from NATS: start it, wait until it says it is listening, then enqueue
    const tail = start([JOBLINE_BIN, 'events', 'tail', '--queue', 'emails', '--count', '3', '--json'], env);
    await waitFor(() => /following events/.test(tail.out()), 30_000, `the tail to listen: ${tail.out()}`);
    const second = await call('POST', '/v1/jobs', {
      queue: 'emails',
      name: 'send-email',
      input: { to: 'grace@example.com', template: 'welcome' },
    });
    expect(await tail.exited, tail.out()).toBe(0);
    const events = tail
      .out()
      .split('\n')
      .filter((l) => l.startsWith('{"specversion"'))
      .map((l) => JSON.parse(l));
    expect(events.map((e) => [e.type, e.subject])).toEqual([
      ['dev.jobline.job.enqueued', String(second.body.id)],
      ['dev.jobline.job.started', String(second.body.id)],
      ['dev.jobline.job.completed', String(second.body.id)],
    ]);

    // and both apps stop cleanly on SIGTERM, as `docker compose down` does
    producer.child.kill('SIGTERM');
    worker.child.kill('SIGTERM');
    expect([await producer.exited, await worker.exited]).toEqual([0, 0]);
  },
);
