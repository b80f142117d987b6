/**
 * Every action type through real runs: retry (and its limit), kick_off_job (idempotent when a
 * new leader redoes the handling), webhook (HMAC, retries, no retry on 4xx, timeout, status in
 * the violation details), kill_all_instances, kill_latest_instance, skip_next_instance (a
 * materialised run, and one not materialised yet), and on_violation bindings limited to a
 * constraint. Webhooks go to a node:http server on 127.0.0.1.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Handler, Worker } from '@jobline/core';
import { sendWebhook, verifyWebhookSignature, WebhookConfigSchema } from '@jobline/core/schedule';
import { openTestDb, waitFor, type TestDb } from './helpers/db.js';
import { HOUR, TestClock, addScheduleAt, clearScheduling, halfPast, namer, startHookServer, type HookServer } from './helpers/schedule.js';

let db: TestDb;
let hooks: HookServer;
let q: (text: string, values?: unknown[]) => Promise<any[]>;
const fresh = namer();
const workers: Worker[] = [];

beforeAll(async () => {
  db = await openTestDb();
  hooks = await startHookServer();
  q = db.q;
});
afterAll(async () => {
  await hooks.close();
  await db.close();
});
afterEach(async () => {
  await Promise.all(workers.splice(0).map((w) => w.stop()));
  await clearScheduling(db);
  hooks.received.length = 0;
  hooks.respond = () => 200;
});

const hourly = (name: string, cursor: Date, extra: Record<string, unknown> = {}, job: Record<string, unknown> = {}): Promise<number> =>
  addScheduleAt(db, { name, cron: '0 * * * *', job: { queue: name, name: 'work', input: { n: 1 }, ...job }, ...extra } as any, cursor);

const runs = (id: number) =>
  q(
    `select r.*, j.state as job_state, j.input, j.idempotency_key from $S.schedule_runs r left join $S.jobs j on j.id = r.job_id
      where r.schedule_id = $1 order by r.scheduled_at, r.id`,
    [id],
  );

async function worker(queue: string, work: Handler): Promise<Worker> {
  const w = db.jl.worker({
    queues: [queue],
    concurrency: 4,
    pollIntervalMs: 50,
    promoteIntervalMs: 20,
    scheduler: false,
    handlers: { work },
  });
  await w.start();
  workers.push(w);
  return w;
}

/** Ticks until `check` holds. */
async function until(sch: { tick(): Promise<void> }, check: () => Promise<boolean>, what: string): Promise<void> {
  await waitFor(
    async () => {
      await sch.tick();
      return check();
    },
    20_000,
    what,
  );
}

function blocking() {
  const aborted: number[] = [];
  const started: number[] = [];
  const handler: Handler = (_i, ctx) =>
    new Promise((_resolve, reject) => {
      started.push(ctx.job.id);
      ctx.signal.addEventListener('abort', () => {
        aborted.push(ctx.job.id);
        reject(ctx.signal.reason);
      });
    });
  return { handler, aborted, started };
}

describe('retry', () => {
  it('re-enqueues the failed run with the same input as its next attempt', async () => {
    await db.jl.actions.add({ name: 'again', type: 'retry', config: { maxRetries: 2 } });
    const now = halfPast();
    const name = fresh('retry');
    const id = await hourly(
      name,
      new Date(now.getTime() - HOUR),
      { actions: [{ action: 'again', trigger: 'on_failure' }] },
      { maxAttempts: 1 },
    );
    const sch = db.jl.scheduler({ now: () => new Date(Math.max(Date.now(), now.getTime())), aheadMs: 0 });
    let calls = 0;
    await worker(name, async () => {
      if (++calls === 1) throw new Error('first attempt fails');
      return 'ok';
    });
    await until(sch, async () => (await runs(id))[0].status === 'succeeded', 'the retried run to succeed');
    const [r] = await runs(id);
    expect(r.attempt).toBe(2);
    expect(r.idempotency_key).toBe(`schedule-run:${r.id}:2`);
    expect(r.input).toEqual({ n: 1 });
    const first = r.details.actions.attempt1[0];
    expect(first).toMatchObject({ action: 'again', type: 'retry', ok: true });
    expect(first.jobId).toBe(r.job_id);
    const firstJob = await q(`select state, input from $S.jobs where idempotency_key = $1`, [`schedule-run:${r.id}:1`]);
    expect(firstJob).toEqual([{ state: 'failed', input: { n: 1 } }]);
  });

  it('stops at maxRetries', async () => {
    await db.jl.actions.add({ name: 'once-more', type: 'retry', config: { maxRetries: 1 } });
    const now = halfPast();
    const name = fresh('retry-limit');
    const id = await hourly(
      name,
      new Date(now.getTime() - HOUR),
      { actions: [{ action: 'once-more', trigger: 'on_failure' }] },
      { maxAttempts: 1 },
    );
    const sch = db.jl.scheduler({ now: () => new Date(Math.max(Date.now(), now.getTime())), aheadMs: 0 });
    await worker(name, async () => {
      throw new Error('always fails');
    });
    await until(
      sch,
      async () => {
        const [r] = await runs(id);
        return r.attempt === 2 && r.status === 'failed' && r.handled_at !== null;
      },
      'the second attempt to fail and be handled',
    );
    const [r] = await runs(id);
    expect(r.details.actions.attempt2).toEqual([{ action: 'once-more', type: 'retry', ok: false, error: 'retry limit reached (1)' }]);
  });
});

describe('kick_off_job', () => {
  it('enqueues another job on success, once even when a new leader redoes the handling', async () => {
    await db.jl.actions.add({
      name: 'report',
      type: 'kick_off_job',
      config: { job: { queue: 'reports', name: 'build-report', input: { format: 'pdf' }, priority: 5 } },
    });
    const now = halfPast();
    const name = fresh('kick');
    const id = await hourly(name, new Date(now.getTime() - HOUR), { actions: [{ action: 'report', trigger: 'on_success' }] });
    const sch = db.jl.scheduler({ now: () => now, aheadMs: 0 });
    await sch.tick();
    const [r0] = await runs(id);
    await q(`update $S.jobs set state = 'completed', started_at = now(), completed_at = now() where id = $1`, [r0.job_id]);
    await sch.tick();
    const [r] = await runs(id);
    expect(r.status).toBe('succeeded');
    const kicked = r.details.actions.attempt1[0];
    expect(kicked).toMatchObject({ action: 'report', type: 'kick_off_job', ok: true });
    expect(await db.jl.getJob(kicked.jobId)).toMatchObject({
      queue: 'reports',
      name: 'build-report',
      input: { format: 'pdf' },
      priority: 5,
      state: 'available',
    });
    // A leader that died before committing would leave the run unhandled: the next one redoes it.
    await q(`update $S.schedule_runs set handled_at = null where id = $1`, [r.id]);
    await db.jl.scheduler({ now: () => now, aheadMs: 0 }).tick();
    const again = await q(`select count(*)::int as n from $S.jobs where queue = 'reports'`);
    expect(again[0].n).toBe(1);
  });
});

describe('webhook', () => {
  const cfg = (extra: object) => WebhookConfigSchema.parse({ url: `${hooks.url}/h`, secret: 's3cret', retryDelayMs: 1, ...extra });

  it('signs the body, retries 5xx with the same delivery id, and reports the final status', async () => {
    hooks.respond = (_r, i) => (i <= 2 ? 503 : 204);
    const r = await sendWebhook(cfg({ retries: 3 }), { hello: 'world' }, 'delivery-1');
    expect(r).toMatchObject({ ok: true, status: 204, attempts: 3 });
    expect(hooks.received).toHaveLength(3);
    for (const h of hooks.received) {
      expect(h.headers['x-jobline-delivery']).toBe('delivery-1');
      expect(h.headers['content-type']).toBe('application/json');
      expect(verifyWebhookSignature('s3cret', h.headers['x-jobline-signature'] as string, h.raw)).toBe(true);
    }
    // a replayed signature is refused once it is older than the tolerance
    const h = hooks.received[0];
    expect(verifyWebhookSignature('s3cret', h.headers['x-jobline-signature'] as string, h.raw, 300, Date.now() + 600_000)).toBe(false);
    expect(verifyWebhookSignature('s3cret', h.headers['x-jobline-signature'] as string, h.raw.replace('world', 'w0rld'))).toBe(false);
  });

  it('does not retry a 4xx, and gives up after the timeout', async () => {
    hooks.respond = () => 400;
    expect(await sendWebhook(cfg({ retries: 3 }), {}, 'd2')).toMatchObject({ ok: false, status: 400, attempts: 1 });
    hooks.received.length = 0;
    hooks.respond = () => 0; // never answers
    const r = await sendWebhook(cfg({ retries: 1, timeoutMs: 150 }), {}, 'd3');
    expect(r).toMatchObject({ ok: false, attempts: 2, error: 'timed out after 150 ms' });
    expect(r.status).toBeUndefined();
    expect(hooks.received).toHaveLength(2);
    const closed = await startHookServer();
    await closed.close(); // a port nothing listens on
    const refused = await sendWebhook(WebhookConfigSchema.parse({ url: `${closed.url}/x`, retries: 0 }), {}, 'd4');
    expect(refused.ok).toBe(false);
    expect(refused.error).toMatch(/ECONNREFUSED|connect/);
  });

  it('takes its secret from the scheduler’s environment with secretEnv', async () => {
    process.env.JOBLINE_TEST_HOOK_SECRET = 'from-env';
    try {
      await sendWebhook(WebhookConfigSchema.parse({ url: `${hooks.url}/env`, secretEnv: 'JOBLINE_TEST_HOOK_SECRET' }), { a: 1 }, 'd5');
    } finally {
      delete process.env.JOBLINE_TEST_HOOK_SECRET;
    }
    expect(verifyWebhookSignature('from-env', hooks.received[0].headers['x-jobline-signature'] as string, hooks.received[0].raw)).toBe(
      true,
    );
  });

  it('on_failure webhook reports the run; an on_violation one stores the failed status in the violation', async () => {
    hooks.respond = (req) => (req.path === '/violation' ? 503 : 200);
    await db.jl.actions.add({ name: 'failed-hook', type: 'webhook', config: { url: `${hooks.url}/failed` } });
    await db.jl.actions.add({
      name: 'violation-hook',
      type: 'webhook',
      config: { url: `${hooks.url}/violation`, retries: 1, retryDelayMs: 1 },
    });
    const now = halfPast();
    const name = fresh('hooks');
    const id = await hourly(name, new Date(now.getTime() - 2 * HOUR), {
      constraint: { catchUp: true, maxConcurrentRuns: 1 },
      actions: [
        { action: 'failed-hook', trigger: 'on_failure' },
        { action: 'violation-hook', trigger: 'on_violation' },
      ],
    });
    const sch = db.jl.scheduler({ now: () => now, aheadMs: 0 });
    await sch.tick(); // run 1 passes, run 2 is skipped: a violation
    const [r1] = await runs(id);
    await q(`update $S.jobs set state = 'failed', started_at = now(), completed_at = now(), error = '{"message":"x"}' where id = $1`, [
      r1.job_id,
    ]);
    await sch.tick();
    const [v] = await db.jl.violations({ schedule: name });
    expect(v.actionTaken).toBe('skipped; violation-hook: webhook 503 failed');
    expect(v.details.actions).toEqual([{ action: 'violation-hook', type: 'webhook', ok: false, status: 503, attempts: 2 }]);
    const failed = hooks.received.find((h) => h.path === '/failed')!;
    expect(failed.body).toMatchObject({ event: 'schedule.run_failed', action: 'failed-hook', run: { id: r1.id, status: 'failed' } });
    expect(failed.headers['x-jobline-delivery']).toBe(`run-${r1.id}-1-on_failure-failed-hook`);
    expect(sch.stats.get('webhookFailures')).toBe(1);
  });

  it('on_violation bindings limited to a constraint fire only for that constraint', async () => {
    await db.jl.constraints.add({ name: 'one-at-a-time', maxConcurrentRuns: 1, catchUp: true });
    await db.jl.constraints.add({ name: 'unrelated', maxExpectedRunTimeMs: 1000 });
    await db.jl.actions.add({ name: 'mine', type: 'webhook', config: { url: `${hooks.url}/mine` } });
    await db.jl.actions.add({ name: 'theirs', type: 'webhook', config: { url: `${hooks.url}/theirs` } });
    const now = halfPast();
    const name = fresh('filtered');
    await hourly(name, new Date(now.getTime() - 2 * HOUR), {
      constraint: 'one-at-a-time',
      actions: [
        { action: 'mine', trigger: 'on_violation', constraint: 'one-at-a-time' },
        { action: 'theirs', trigger: 'on_violation', constraint: 'unrelated' },
      ],
    });
    await db.jl.scheduler({ now: () => now, aheadMs: 0 }).tick();
    expect(hooks.received.map((h) => h.path)).toEqual(['/mine']);
  });
});

describe('kill and skip actions', () => {
  it('kill_all_instances cancels every running run of the schedule (their signals fire)', async () => {
    await db.jl.actions.add({ name: 'kill-all', type: 'kill_all_instances', config: {} });
    const clock = new TestClock(new Date());
    const hourStart = new Date();
    hourStart.setUTCMinutes(0, 0, 0);
    const name = fresh('killall');
    // exactly two occurrences have come due: the last hour's and this hour's
    const id = await hourly(name, new Date(hourStart.getTime() - HOUR - 60_000), {
      constraint: { catchUp: true, maxExpectedRunTimeMs: 60_000 },
      actions: [{ action: 'kill-all', trigger: 'on_violation' }],
    });
    const sch = db.jl.scheduler({ now: clock.now, aheadMs: 0 });
    const b = blocking();
    await worker(name, b.handler);
    await until(sch, async () => (await runs(id)).filter((r) => r.status === 'running').length === 2, 'two running instances');
    clock.advance(2 * 60_000);
    await sch.tick();
    await waitFor(() => b.aborted.length === 2, 10_000, 'both handlers aborted');
    // The two instances that were running. Started within 2 minutes of the next hour, the
    // advanced clock also makes the next occurrence due and the tick materialises it: that run
    // had not started, so it is not one kill_all_instances acts on.
    const r = (await runs(id)).filter((x) => x.scheduled_at.getTime() <= hourStart.getTime());
    expect(r.map((x) => [x.status, x.job_state, x.details.killedBy])).toEqual([
      ['cancelled', 'cancelled', 'kill-all'],
      ['cancelled', 'cancelled', 'kill-all'],
    ]);
    const v = await db.jl.violations({ schedule: name });
    expect(v).toHaveLength(2);
    // the first violation's action killed both; the second found nothing left to kill
    const killed = v.map((x) => (x.details.actions as any[])[0].runIds.length).sort();
    expect(killed).toEqual([0, 2]);
  });

  it('kill_latest_instance (aimed at another schedule) cancels only the newest running run', async () => {
    await db.jl.actions.add({ name: 'kill-newest', type: 'kill_latest_instance', config: { schedule: 'victim' } });
    const now = halfPast();
    const sch = db.jl.scheduler({ now: () => new Date(Math.max(Date.now(), now.getTime())), aheadMs: 0 });
    const victim = await hourly('victim', new Date(now.getTime() - 2 * HOUR), { constraint: { catchUp: true } });
    const b = blocking();
    await worker('victim', b.handler);
    await until(sch, async () => (await runs(victim)).filter((r) => r.status === 'running').length === 2, 'two running victims');
    const killer = fresh('killer');
    await db.jl.schedules.add({
      name: killer,
      cron: '0 0 1 1 *',
      job: { queue: killer, name: 'work' },
      actions: [{ action: 'kill-newest', trigger: 'on_success' }],
    });
    await worker(killer, async () => 'done');
    const run = await db.jl.schedules.trigger(killer);
    await until(
      sch,
      async () => (await q(`select handled_at from $S.schedule_runs where id = $1`, [run.id]))[0].handled_at !== null,
      'the killer run to be handled',
    );
    await waitFor(() => b.aborted.length === 1, 10_000, 'one handler aborted');
    const r = await runs(victim);
    expect(r.map((x) => x.status)).toEqual(['running', 'cancelled']);
    expect(b.aborted).toEqual([r[1].job_id]);
  });

  it('skip_next_instance skips the next materialised run, or the next one to be materialised', async () => {
    await db.jl.actions.add({ name: 'skip-a', type: 'skip_next_instance', config: { schedule: 'skip-target-a' } });
    await db.jl.actions.add({ name: 'skip-b', type: 'skip_next_instance', config: { schedule: 'skip-target-b' } });
    const sch = db.jl.scheduler({ aheadMs: 2 * HOUR });
    // a: its next runs exist already (materialised ahead); b: none yet (paused, nothing materialised)
    const a = await hourly('skip-target-a', new Date());
    const b = await hourly('skip-target-b', new Date());
    await db.jl.schedules.pause('skip-target-b');
    const trig = fresh('trigger');
    await db.jl.schedules.add({
      name: trig,
      cron: '0 0 1 1 *',
      job: { queue: trig, name: 'work' },
      actions: [
        { action: 'skip-a', trigger: 'on_success' },
        { action: 'skip-b', trigger: 'on_success' },
      ],
    });
    await sch.tick();
    expect((await runs(a)).map((r) => r.status)).toEqual(['scheduled', 'scheduled']); // the next two hours
    await worker(trig, async () => 'ok');
    const run = await db.jl.schedules.trigger(trig);
    await until(
      sch,
      async () => (await q(`select handled_at from $S.schedule_runs where id = $1`, [run.id]))[0].handled_at !== null,
      'the trigger run to be handled',
    );
    const ra = await runs(a);
    expect(ra.slice(0, 2).map((r) => [r.status, r.job_state])).toEqual([
      ['skipped', 'cancelled'],
      ['scheduled', 'scheduled'],
    ]);
    expect(ra[0].details.skipped).toEqual({ reason: 'skip_next_instance', action: 'skip-a' });
    const [sb] = await q(`select skip_next from $S.schedules where id = $1`, [b]);
    expect(sb.skip_next).toBe(1);
    await db.jl.schedules.resume('skip-target-b');
    sch.invalidate(); // a scheduler that leads is told by NOTIFY; this one only ticks
    await sch.tick();
    const rb = await runs(b);
    expect(rb.slice(0, 2).map((r) => r.status)).toEqual(['skipped', 'scheduled']);
    expect(rb[0].details).toEqual({ reason: 'skip_next_instance' });
    expect((await q(`select skip_next from $S.schedules where id = $1`, [b]))[0].skip_next).toBe(0);
  });
});
