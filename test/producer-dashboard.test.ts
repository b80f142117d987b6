/**
 * The dashboard's HTTP side without a browser: /ui/ sign-in and cookie rules, the
 * /v1/dashboard/* reads with queue-limited tokens, retry and queue actions with their scopes and
 * errors, and `jobline dashboard` (the CLI) serving it with a one-off token.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openTestDb, type TestDb } from './helpers/db.js';
import { TOKENS, startTestProducer, type TestProducer } from './fixtures/app-producer.js';

const BIN = fileURLToPath(new URL('../apps/cli/dist/main.js', import.meta.url));

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

async function login(token: string): Promise<{ status: number; cookie?: string }> {
  const res = await fetch(`${p.url}/ui/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ token }).toString(),
    redirect: 'manual',
  });
  return { status: res.status, cookie: res.headers.get('set-cookie')?.split(';')[0] };
}

describe('/ui/', () => {
  it('serves a sign-in form without credentials, the app with a bearer token or the sign-in cookie', async () => {
    const anon = await fetch(`${p.url}/ui/`);
    expect(anon.status).toBe(401);
    expect(await anon.text()).toContain('name="token"');
    const bearer = await fetch(`${p.url}/ui/jobs/1`, { headers: { authorization: `Bearer ${TOKENS.reader}` } });
    expect(bearer.status).toBe(200);
    expect(bearer.headers.get('content-security-policy')).toContain("default-src 'self'");
    const html = await bearer.text();
    const asset = /src="(\/ui\/assets\/[^"]+\.js)"/.exec(html)![1];
    const js = await fetch(p.url + asset, { headers: { authorization: `Bearer ${TOKENS.reader}` } });
    expect(js.headers.get('cache-control')).toContain('immutable');
    // No external network at run time: nothing in the page or its script points off-origin.
    expect(html + (await js.text())).not.toMatch(/https?:\/\/(?!www\.w3\.org)[a-z]/i);
    expect((await fetch(`${p.url}/ui/assets/nope.js`, { headers: { authorization: `Bearer ${TOKENS.reader}` } })).status).toBe(404);
    expect((await fetch(`${p.url}/ui/../package.json`, { headers: { authorization: `Bearer ${TOKENS.reader}` } })).status).not.toBe(200);
  });

  it('sign-in sets an HttpOnly SameSite=Strict cookie for a known token and refuses others', async () => {
    expect((await login('not-a-token-at-all-0000')).status).toBe(401);
    const ok = await login(TOKENS.reader);
    expect(ok.status).toBe(303);
    const res = await fetch(`${p.url}/ui/`, { headers: { cookie: ok.cookie! } });
    expect(res.status).toBe(200);
    const raw = await fetch(`${p.url}/ui/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: `token=${TOKENS.reader}`,
      redirect: 'manual',
    });
    expect(raw.headers.get('set-cookie')).toMatch(/HttpOnly; SameSite=Strict/);
  });

  it('the cookie stands for its token on the API: reads pass, writes need the write scope and the dashboard header', async () => {
    const reader = (await login(TOKENS.reader)).cookie!;
    const admin = (await login(TOKENS.admin)).cookie!;
    const job = await db.jl.enqueue({ queue: 'ui-c', name: 'x' });
    const session = await p.call('GET', '/v1/dashboard/session', { token: null, headers: { cookie: reader } });
    expect(session.body).toEqual({ name: 'reader', scopes: ['read'], allQueues: true, auth: true });
    const h = { cookie: admin, 'x-jobline-dashboard': '1' };
    expect(
      (await p.call('POST', `/v1/jobs/${job.id}/cancel`, { token: null, headers: { cookie: reader, 'x-jobline-dashboard': '1' } })).status,
    ).toBe(403);
    expect((await p.call('POST', `/v1/jobs/${job.id}/cancel`, { token: null, headers: { cookie: admin } })).status).toBe(403);
    expect((await db.jl.getJob(job.id)).state).toBe('available');
    expect((await p.call('POST', `/v1/jobs/${job.id}/cancel`, { token: null, headers: h })).status).toBe(200);
  });
});

describe('/ui/ with JOBLINE_AUTH=off', () => {
  it('serves the app without sign-in, and the session says auth is off', async () => {
    const open = await startTestProducer(db, { auth: false });
    try {
      expect((await fetch(`${open.url}/ui/`)).status).toBe(200);
      expect((await open.call('GET', '/v1/dashboard/session', { token: null })).body).toMatchObject({ auth: false, allQueues: true });
    } finally {
      await open.close();
    }
  });
});

describe('/v1/dashboard and the actions', () => {
  it('overview: a queue-limited token sees only its queues, and no outbox or table sizes', async () => {
    await db.jl.enqueueMany([
      { queue: 'a', name: 'x' },
      { queue: 'b', name: 'x' },
      { queue: 'zzz', name: 'x' },
    ]);
    const all = await p.call('GET', '/v1/dashboard/overview');
    expect(all.status).toBe(200);
    expect(all.body.queues.map((q: any) => q.name)).toEqual(expect.arrayContaining(['a', 'b', 'zzz']));
    expect(all.body.outbox).toBeDefined();
    const limited = await p.call('GET', '/v1/dashboard/overview', { token: TOKENS.writerA });
    expect(limited.body.queues.map((q: any) => q.name)).toEqual(['a']);
    expect(limited.body.outbox).toBeUndefined();
    expect((await p.call('GET', '/v1/dashboard/overview?limit=0')).status).toBe(400);
    expect((await p.call('GET', '/v1/dashboard/jobs', { token: TOKENS.writerA })).status).toBe(403);
    expect((await p.call('GET', '/v1/dashboard/jobs?queue=b', { token: TOKENS.writerA })).status).toBe(403);
    const page = await p.call('GET', '/v1/dashboard/jobs?queue=a&name=x&limit=1', { token: TOKENS.writerA });
    expect(page.body.jobs).toHaveLength(1);
  });

  it('retry: 404 unknown, 409 not retryable, 403 read-only, 200 for a cancelled job', async () => {
    const job = await db.jl.enqueue({ queue: 'a', name: 'x' });
    expect((await p.call('POST', '/v1/jobs/999999/retry')).status).toBe(404);
    const conflict = await p.call('POST', `/v1/jobs/${job.id}/retry`);
    expect(conflict.status).toBe(409);
    expect(conflict.body.error.message).toMatch(/only failed, cancelled and retryable/);
    await db.jl.cancel(job.id);
    expect((await p.call('POST', `/v1/jobs/${job.id}/retry`, { token: TOKENS.reader })).status).toBe(403);
    const ok = await p.call('POST', `/v1/jobs/${job.id}/retry`, { token: TOKENS.writerA });
    expect(ok.status).toBe(200);
    expect(ok.body).toMatchObject({ id: job.id, state: 'available' });
  });

  it('bulk retry needs a queue for queue-limited tokens and validates its filter', async () => {
    expect((await p.call('POST', '/v1/jobs/retry', { token: TOKENS.writerA, body: {} })).status).toBe(403);
    const bad = await p.call('POST', '/v1/jobs/retry', { body: { state: 'completed', limit: 0 } });
    expect(bad.status).toBe(400);
    expect(bad.body.error.issues.map((i: any) => i.path).sort()).toEqual(['limit', 'state']);
    const ok = await p.call('POST', '/v1/jobs/retry', { token: TOKENS.writerA, body: { queue: 'a', state: 'cancelled' } });
    expect(ok.status).toBe(200);
    expect(ok.body).toEqual({ retried: 0, ids: [], more: false });
  });

  it('queue pause, resume and concurrency limit', async () => {
    expect((await p.call('POST', '/v1/queues/a/pause', { token: TOKENS.reader })).status).toBe(403);
    expect((await p.call('POST', '/v1/queues/b/pause', { token: TOKENS.writerA })).status).toBe(403);
    expect((await p.call('POST', '/v1/queues/a/pause', { token: TOKENS.writerA })).body).toMatchObject({ name: 'a', paused: true });
    expect((await p.call('POST', '/v1/queues/a/settings', { body: { concurrencyLimit: 0 } })).status).toBe(400);
    expect((await p.call('POST', '/v1/queues/a/settings', { body: { concurrencyLimit: 7 } })).body).toMatchObject({
      paused: true,
      concurrencyLimit: 7,
    });
    expect((await p.call('POST', '/v1/queues/a/resume')).body).toMatchObject({ paused: false, concurrencyLimit: 7 });
    expect((await p.call('POST', '/v1/queues/a/settings', { body: { concurrencyLimit: null } })).body).toEqual({
      name: 'a',
      paused: false,
    });
  });
});

describe('jobline dashboard', () => {
  it('serves the dashboard against DATABASE_URL with a one-off token from its sign-in link', async () => {
    const child = spawn(process.execPath, [BIN, 'dashboard', '--port', '0'], {
      env: { PATH: process.env.PATH, DATABASE_URL: db.url, JOBLINE_SCHEMA: db.schema, LOG_LEVEL: 'warn' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const exited = new Promise<number | null>((r) => child.on('exit', (c) => r(c)));
    try {
      const link = await new Promise<string>((resolve, reject) => {
        let buf = '';
        child.stderr.on('data', (d) => {
          buf += d;
          const m = /Dashboard: (\S+)/.exec(buf);
          if (m) resolve(m[1]);
        });
        child.on('exit', (c) => reject(new Error(`exited ${c}: ${buf}`)));
      });
      const url = new URL(link);
      expect(url.hostname).toBe('127.0.0.1');
      const token = /#token=([0-9a-f]+)/.exec(link)![1];
      expect((await fetch(`${url.origin}/ui/`)).status).toBe(401);
      const res = await fetch(`${url.origin}/v1/dashboard/session`, { headers: { authorization: `Bearer ${token}` } });
      expect(await res.json()).toMatchObject({ name: 'dashboard', scopes: ['read', 'write', 'admin'] });
      child.kill('SIGTERM');
      expect(await exited).toBe(0);
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
    }
  });
});
