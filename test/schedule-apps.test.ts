/**
 * Schedules through the apps: the producer endpoints (/v1/schedules, /v1/schedules/:id/runs,
 * /v1/actions, /v1/constraints, /v1/violations, /v1/scheduler/stats — every response checked
 * against its declared schema) and the CLI (`jobline schedule add|list|pause|resume|runs|trigger`).
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiSchemas as S } from '@jobline/producer';
import { openTestDb, type TestDb } from './helpers/db.js';
import { runJobline } from './helpers/cli.js';
import { TOKENS, startTestProducer, type TestProducer } from './fixtures/app-producer.js';

let db: TestDb;
let p: TestProducer;
let dir: string;
beforeAll(async () => {
  db = await openTestDb();
  p = await startTestProducer(db);
  dir = await mkdtemp(join(tmpdir(), 'jl-sched-'));
});
afterAll(async () => {
  await p?.close();
  await db?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

const paths = (body: any) => (body.error.issues as { path: string }[]).map((i) => i.path);

describe('producer endpoints', () => {
  it('creates, reads, pauses, resumes and triggers schedules; lists runs', async () => {
    expect(
      (
        await p.call('POST', '/v1/actions', {
          body: { name: 'notify', type: 'webhook', config: { url: 'http://127.0.0.1:9/x', secret: 'shh' } },
        })
      ).status,
    ).toBe(201);
    const c = await p.call('POST', '/v1/constraints', { body: { name: 'one', maxConcurrentRuns: 1 } });
    expect(c.status).toBe(201);
    const r = await p.call('POST', '/v1/schedules', {
      body: {
        name: 'hourly-a',
        cron: '@hourly',
        job: { queue: 'a', name: 'tick' },
        constraint: 'one',
        actions: [{ action: 'notify', trigger: 'on_failure' }],
      },
    });
    expect(r.status).toBe(201);
    const sc = S.Schedule.parse(r.body);
    expect(r.headers.get('location')).toBe(`/v1/schedules/${sc.id}`);
    expect(sc).toMatchObject({
      name: 'hourly-a',
      cron: '@hourly',
      constraint: { name: 'one' },
      actions: [{ action: 'notify', trigger: 'on_failure' }],
    });
    expect((await p.call('GET', `/v1/schedules/${sc.id}`)).body.name).toBe('hourly-a');
    expect((await p.call('GET', '/v1/schedules/hourly-a')).body.id).toBe(sc.id);
    expect((await p.call('GET', '/v1/schedules')).body.schedules.map((s: any) => s.name)).toEqual(['hourly-a']);
    expect((await p.call('GET', '/v1/actions')).body.actions[0].config.secret).toBe('********');
    expect((await p.call('GET', '/v1/constraints')).body.constraints[0]).toMatchObject({ name: 'one', maxConcurrentRuns: 1 });
    expect((await p.call('POST', '/v1/schedules/hourly-a/pause')).body.paused).toBe(true);
    expect((await p.call('POST', '/v1/schedules/hourly-a/resume')).body.paused).toBe(false);
    const t = await p.call('POST', '/v1/schedules/hourly-a/trigger');
    expect(t.status).toBe(201);
    expect(S.ScheduleRun.parse(t.body)).toMatchObject({ trigger: 'manual', status: 'scheduled' });
    const runs = await p.call('GET', '/v1/schedules/hourly-a/runs?limit=5');
    expect(runs.status).toBe(200);
    expect(runs.body.runs.map((x: any) => x.id)).toEqual([t.body.id]);
    expect((await p.call('GET', '/v1/schedules/hourly-a/runs?status=missed')).body.runs).toEqual([]);
    expect((await p.call('GET', '/v1/violations?schedule=hourly-a')).body).toEqual({ violations: [] });
    await db.jl.scheduler({ statsPeriodMs: 100 }).flushStats();
    const stats = await p.call('GET', '/v1/scheduler/stats?limit=1');
    expect(stats.status).toBe(200);
    expect(stats.body.stats).toHaveLength(1);
  });

  it('400 names each bad field; 404 for unknown schedules; 409 for duplicates', async () => {
    const bad = await p.call('POST', '/v1/schedules', { body: { name: 'x', cron: '99 * * * *', job: { name: 'x', priority: 'high' } } });
    expect(bad.status).toBe(400);
    expect(paths(bad.body)).toEqual(expect.arrayContaining(['cron', 'job.priority']));
    const act = await p.call('POST', '/v1/actions', { body: { name: 'r', type: 'retry', config: { maxRetries: -1 } } });
    expect(act.status).toBe(400);
    expect(paths(act.body)).toEqual(['config.maxRetries']);
    const q = await p.call('GET', '/v1/schedules/hourly-a/runs?limit=0&status=sideways');
    expect(q.status).toBe(400);
    expect(paths(q.body).sort()).toEqual(['limit', 'status']);
    // what PostgreSQL cannot store is a 400, not a 500
    const nul = await p.call('POST', '/v1/schedules', {
      body: { name: 'n', cron: '@daily', description: 'a\u0000b', job: { queue: 'a', name: 'x' } },
    });
    expect([nul.status, paths(nul.body)]).toEqual([400, ['description']]);
    const lone = await p.call('POST', '/v1/actions', {
      raw: '{"name":"h","type":"webhook","config":{"url":"http://h/","headers":{"x-a":"\\ud800"}}}',
      headers: { 'content-type': 'application/json' },
    });
    expect([lone.status, paths(lone.body)]).toEqual([400, ['config']]);
    expect((await p.call('GET', '/v1/schedules/nope')).status).toBe(404);
    expect((await p.call('POST', '/v1/schedules/nope/pause')).status).toBe(404);
    const dup = await p.call('POST', '/v1/schedules', { body: { name: 'hourly-a', cron: '@daily', job: { queue: 'a', name: 'x' } } });
    expect(dup.status).toBe(409);
  });

  it('scopes and queues: reading needs read, creating needs admin, a token sees only schedules of its queues', async () => {
    await p.call('POST', '/v1/schedules', { body: { name: 'in-b', cron: '@daily', job: { queue: 'b', name: 'x' } } });
    expect(
      (
        await p.call('POST', '/v1/schedules', {
          token: TOKENS.writerA,
          body: { name: 'w', cron: '@daily', job: { queue: 'a', name: 'x' } },
        })
      ).status,
    ).toBe(403);
    const seen = await p.call('GET', '/v1/schedules', { token: TOKENS.writerA });
    expect(seen.body.schedules.map((s: any) => s.name)).toEqual(['hourly-a']);
    expect((await p.call('GET', '/v1/schedules/in-b', { token: TOKENS.writerA })).status).toBe(403);
    expect((await p.call('POST', '/v1/schedules/in-b/trigger', { token: TOKENS.writerA })).status).toBe(403);
    expect((await p.call('POST', '/v1/schedules/hourly-a/trigger', { token: TOKENS.writerA })).status).toBe(201);
    expect((await p.call('GET', '/v1/schedules', { token: null })).status).toBe(401);
  });

  it('the OpenAPI document describes the schedule endpoints', async () => {
    const doc = (await p.call('GET', '/openapi.json')).body;
    for (const path of [
      '/v1/schedules',
      '/v1/schedules/{id}',
      '/v1/schedules/{id}/runs',
      '/v1/actions',
      '/v1/violations',
      '/v1/constraints',
      '/v1/scheduler/stats',
    ]) {
      expect(doc.paths[path], path).toBeDefined();
    }
    expect(doc.components.schemas.ScheduleRun.properties.status.enum).toContain('missed');
    expect(doc.paths['/v1/schedules'].post.requestBody.content['application/json'].schema.$ref).toBe('#/components/schemas/ScheduleCreate');
  });
});

const jobline = (args: string[]) => runJobline(db, args);

describe('jobline schedule', () => {
  // A dozen CLI processes in a row: seconds each on a loaded machine, so a timeout of its own.
  it('add (flags and file), list, pause, resume, trigger, runs', { timeout: 300_000 }, async () => {
    const add = await jobline([
      'schedule',
      'add',
      'cli-nightly',
      '--cron',
      '30 2 * * *',
      '--tz',
      'Europe/Berlin',
      '--job',
      'export',
      '--queue',
      'exports',
      '--input',
      '{"full":true}',
      '--max-concurrent',
      '1',
    ]);
    expect(add.stderr).toBe('');
    expect(add.code).toBe(0);
    expect(add.stdout).toMatch(/^schedule:\d+ cli-nightly \(30 2 \* \* \* Europe\/Berlin\); next run \d{4}-/);
    const file = join(dir, 'etl.json');
    await writeFile(
      file,
      JSON.stringify({ name: 'cli-etl', cron: '*/15 * * * *', dag: { name: 'etl', nodes: [{ key: 'a', name: 'x' }] } }),
    );
    const fromFile = await jobline(['schedule', 'add', file, '--json']);
    expect(fromFile.code).toBe(0);
    expect(JSON.parse(fromFile.stdout)).toMatchObject({ name: 'cli-etl', dag: { name: 'etl' } });
    const list = await jobline(['schedule', 'list']);
    expect(list.code).toBe(0);
    expect(list.stdout).toMatch(/^ID\s+NAME\s+CRON/);
    expect(list.stdout).toMatch(/cli-nightly\s+30 2 \* \* \*\s+Europe\/Berlin\s+job exports\/export\s+active/);
    expect((await jobline(['schedule', 'pause', 'cli-nightly'])).stdout).toBe('cli-nightly paused\n');
    expect(JSON.parse((await jobline(['schedule', 'list', '--json'])).stdout).find((s: any) => s.name === 'cli-nightly').paused).toBe(true);
    expect((await jobline(['schedule', 'resume', 'cli-nightly'])).stdout).toMatch(/^cli-nightly resumed; next run /);
    const trig = await jobline(['schedule', 'trigger', 'cli-nightly']);
    expect(trig.stdout).toMatch(/^run \d+ started \(job:\d+\)\n$/);
    const runs = await jobline(['schedule', 'runs', 'cli-nightly', '--limit', '5']);
    expect(runs.code).toBe(0);
    expect(runs.stdout).toMatch(/scheduled\s+manual\s+1\s+job:\d+/);
    const asJson = JSON.parse((await jobline(['schedule', 'runs', 'cli-nightly', '--json'])).stdout);
    expect(asJson).toHaveLength(1);
  });

  it('usage errors exit 2; invalid schedules exit 1 naming the field', async () => {
    expect((await jobline(['schedule'])).code).toBe(2);
    expect((await jobline(['schedule', 'explode'])).code).toBe(2);
    expect((await jobline(['schedule', 'add', 'x', '--job', 'y'])).stderr).toMatch(/--cron/);
    const bad = await jobline(['schedule', 'add', 'x', '--cron', 'every minute', '--job', 'y']);
    expect(bad.code).toBe(2); // invalid input is a usage error for the CLI
    expect(bad.stderr).toMatch(/cron: "every minute" is not a cron expression/);
    expect((await jobline(['schedule', 'runs', 'missing'])).code).toBe(1);
    expect((await jobline(['schedule', '--help'])).code).toBe(0);
  });
});
