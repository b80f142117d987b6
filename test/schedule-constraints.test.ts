/**
 * Every constraint, with an injected clock and real workers in this process: max_concurrent_runs
 * (skip and delay), require_previous_success (own runs, another schedule, a job), the run-time
 * limits (expected → violation + on_violation actions; allowed → the run is cancelled, its
 * handler's signal fires, on_timeout actions run), and pre/post-run hooks against a local HTTP
 * server. Violation records are checked through jl.violations().
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Handler, Worker } from '@jobline/core';
import { verifyWebhookSignature } from '@jobline/core/schedule';
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
  addScheduleAt(db, { name, cron: '0 * * * *', job: { queue: name, name: 'work', ...job }, ...extra } as any, cursor);

const runs = (id: number) =>
  q(
    `select r.*, j.state as job_state, j.run_at from $S.schedule_runs r left join $S.jobs j on j.id = r.job_id
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

/** A handler that runs until released (or its signal fires); remembers abort reasons. */
function gatedHandler() {
  const started: number[] = [];
  const aborted: { jobId: number; reason: string }[] = [];
  let release: () => void = () => {};
  const released = new Promise<void>((r) => (release = r));
  const handler: Handler = async (_input, ctx) => {
    started.push(ctx.job.id);
    await new Promise<void>((resolve, reject) => {
      void released.then(resolve);
      ctx.signal.addEventListener('abort', () => {
        aborted.push({ jobId: ctx.job.id, reason: (ctx.signal.reason as Error)?.name });
        reject(ctx.signal.reason);
      });
    });
    return { ok: true };
  };
  return { handler, started, aborted, release: () => release() };
}

describe('max_concurrent_runs', () => {
  it('skip: due runs beyond the limit are skipped, each with a violation', async () => {
    const now = halfPast();
    const name = fresh('conc-skip');
    const id = await hourly(name, new Date(now.getTime() - 3 * HOUR), { constraint: { catchUp: true, maxConcurrentRuns: 1 } });
    await db.jl.scheduler({ now: () => now, aheadMs: 0 }).tick();
    const r = await runs(id);
    expect(r.map((x) => [x.status, x.job_state])).toEqual([
      ['scheduled', 'scheduled'], // passed its check: released to its own (past) time, promoted next
      ['skipped', 'cancelled'],
      ['skipped', 'cancelled'],
    ]);
    expect(r[0].run_at.getTime()).toBe(r[0].scheduled_at.getTime());
    const v = await db.jl.violations({ schedule: name });
    expect(v).toHaveLength(2);
    for (const x of v) {
      expect(x).toMatchObject({ type: 'max_concurrent_runs', actionTaken: 'skipped', schedule: name, attempt: 1 });
      expect(x.details).toEqual({ inFlight: 1, maxConcurrentRuns: 1, policy: 'skip' });
    }
    expect(v.map((x) => x.runId).sort()).toEqual([r[1].id, r[2].id].sort());
  });

  it('delay: runs beyond the limit wait (one violation each) and start one by one as slots free', async () => {
    const now = halfPast();
    const name = fresh('conc-delay');
    const id = await hourly(name, new Date(now.getTime() - 3 * HOUR), {
      constraint: { catchUp: true, maxConcurrentRuns: 1, concurrencyPolicy: 'delay' },
    });
    const sch = db.jl.scheduler({ now: () => now, aheadMs: 0 });
    await sch.tick();
    expect((await runs(id)).map((x) => x.status)).toEqual(['scheduled', 'delayed', 'delayed']);
    const order: number[] = [];
    await worker(name, async (_i, ctx) => void order.push(ctx.job.id));
    await waitFor(
      async () => {
        await sch.tick();
        return (await runs(id)).every((x) => x.status === 'succeeded');
      },
      30_000,
      'all three runs to succeed one after another',
    );
    const r = await runs(id);
    expect(order).toEqual(r.map((x) => x.job_id));
    // one at a time: each started after the previous one completed
    expect(r[1].started_at.getTime()).toBeGreaterThanOrEqual(r[0].completed_at.getTime());
    expect(r[2].started_at.getTime()).toBeGreaterThanOrEqual(r[1].completed_at.getTime());
    const v = await db.jl.violations({ schedule: name });
    expect(v.map((x) => [x.type, x.actionTaken])).toEqual([
      ['max_concurrent_runs', 'delayed'],
      ['max_concurrent_runs', 'delayed'],
    ]);
    expect(sch.stats.get('delayedRuns')).toBe(2);
  });
});

describe('require_previous_success', () => {
  it('waits while the previous run is unfinished, skips after a failure, and a triggered success restarts the chain', async () => {
    const now = halfPast();
    const clock = new TestClock(now);
    const name = fresh('prev');
    const id = await hourly(
      name,
      new Date(now.getTime() - 2 * HOUR),
      { constraint: { catchUp: true, requirePreviousSuccess: true } },
      { maxAttempts: 1 },
    );
    const sch = db.jl.scheduler({ now: clock.now, aheadMs: 0 });
    await sch.tick();
    let r = await runs(id);
    expect(r.map((x) => [x.status, x.gate_passed_at !== null])).toEqual([
      ['scheduled', true],
      ['scheduled', false], // waiting for the first to finish: its job is held
    ]);
    expect(r[1].run_at.getUTCFullYear()).toBe(9999);
    let failing = true;
    await worker(name, async () => {
      if (failing) throw new Error('upstream broke');
    });
    await waitFor(async () => (await runs(id))[0].job_state === 'failed', 20_000, 'the first run to fail');
    await sch.tick();
    r = await runs(id);
    expect(r.map((x) => x.status)).toEqual(['failed', 'skipped']);
    const [v] = await db.jl.violations({ schedule: name });
    expect(v).toMatchObject({ type: 'require_previous_success', actionTaken: 'skipped', runId: r[1].id });
    expect(v.details).toMatchObject({ schedule: name, previousRunId: r[0].id, previous: 'failed' });

    // A manual run skips the start checks; its success lets the next occurrence start.
    failing = false;
    const manual = await db.jl.schedules.trigger(name);
    clock.set(new Date(Math.max(Date.now() + 1000, now.getTime()))); // a manual run happens at the database's now
    expect(manual.trigger).toBe('manual');
    await waitFor(
      async () => {
        await sch.tick();
        return (await runs(id)).find((x) => x.id === manual.id)?.status === 'succeeded';
      },
      20_000,
      'the manual run to succeed',
    );
    clock.set(new Date(now.getTime() + 30 * 60_000 + 1000)); // just after the next full hour
    await sch.tick();
    r = await runs(id);
    const next = r.at(-1);
    expect(next.scheduled_at.getTime()).toBe(now.getTime() + 30 * 60_000);
    expect([next.status, next.gate_passed_at !== null]).toEqual(['scheduled', true]);
    expect(await db.jl.violations({ schedule: name })).toHaveLength(1);
  });

  it('another schedule: a run starts only if that schedule’s previous run succeeded', async () => {
    const now = halfPast();
    const up = fresh('upstream');
    const upId = await hourly(up, new Date(now.getTime() - 1 * HOUR));
    const down = fresh('downstream');
    const sc = await db.jl.schedules.add({
      name: down,
      cron: '5 * * * *',
      job: { queue: down, name: 'work' },
      constraint: { requirePreviousSuccess: { schedule: up } },
    });
    await q(`update $S.schedules set materialised_until = $2 where id = $1`, [sc.id, new Date(now.getTime() - 30 * 60_000)]);
    const sch = db.jl.scheduler({ now: () => now, aheadMs: 0 });
    // upstream's run at hh:00 failed
    await sch.tick();
    const [upRun] = await runs(upId);
    await q(`update $S.jobs set state = 'failed', completed_at = now() where id = $1`, [upRun.job_id]);
    expect((await runs(sc.id))[0].gate_passed_at).toBeNull(); // waiting: upstream's run had not finished
    await sch.tick();
    const [downRun] = await runs(sc.id);
    expect(downRun.status).toBe('skipped');
    const [v] = await db.jl.violations({ schedule: down });
    expect(v.details).toMatchObject({ schedule: up, previousRunId: upRun.id, previous: 'failed' });
  });

  it('a job: the latest finished job of that name and queue must have completed', async () => {
    const now = halfPast();
    const mk = async (name: string) => {
      const sc = await db.jl.schedules.add({
        name,
        cron: '0 * * * *',
        job: { queue: name, name: 'work' },
        constraint: { requirePreviousSuccess: { job: 'import', queue: 'etl' } },
      });
      await q(`update $S.schedules set materialised_until = $2 where id = $1`, [sc.id, new Date(now.getTime() - HOUR)]);
      await db.jl.scheduler({ now: () => now, aheadMs: 0 }).tick();
      return (await runs(sc.id))[0];
    };
    // no import has ever finished: nothing failed, the run starts
    expect((await mk(fresh('job-none'))).status).toBe('scheduled');
    const failed = await db.jl.enqueue({ queue: 'etl', name: 'import' });
    await q(`update $S.jobs set state = 'failed', completed_at = now() where id = $1`, [failed.id]);
    const blocked = await mk(fresh('job-failed'));
    expect(blocked.status).toBe('skipped');
    const [v] = await db.jl.violations({ runId: blocked.id });
    expect(v.details).toMatchObject({ job: 'import', queue: 'etl', previousJobId: failed.id, previous: 'failed' });
    const ok = await db.jl.enqueue({ queue: 'etl', name: 'import' });
    await q(`update $S.jobs set state = 'completed', completed_at = now() + interval '1 second' where id = $1`, [ok.id]);
    expect((await mk(fresh('job-ok'))).status).toBe('scheduled');
  });
});

describe('run-time limits', () => {
  async function runningRun(name: string, constraint: object, actions: object[] = []) {
    const clock = new TestClock(new Date());
    const id = await hourly(name, new Date(clock.now().getTime() - HOUR), { constraint, actions });
    const sch = db.jl.scheduler({ now: clock.now, aheadMs: 0 });
    const g = gatedHandler();
    await worker(name, g.handler);
    await sch.tick();
    await waitFor(
      async () => {
        await sch.tick();
        return (await runs(id)).some((r) => r.status === 'running');
      },
      20_000,
      'the run to start',
    );
    const run = (await runs(id)).find((r) => r.status === 'running');
    return { id, run, clock, sch, g };
  }

  it('max_expected_run_time: a violation and on_violation actions; the run goes on', async () => {
    await db.jl.actions.add({ name: 'alert', type: 'webhook', config: { url: `${hooks.url}/alert`, secret: 'k3y' } });
    const name = fresh('expected');
    const { id, run, clock, sch, g } = await runningRun(name, { maxExpectedRunTimeMs: 60_000 }, [
      { action: 'alert', trigger: 'on_violation' },
    ]);
    await sch.tick();
    expect(await db.jl.violations({ schedule: name })).toHaveLength(0);
    clock.advance(2 * 60_000);
    await sch.tick();
    await sch.tick(); // recorded once, not per pass
    const v = await db.jl.violations({ schedule: name });
    expect(v).toHaveLength(1);
    expect(v[0]).toMatchObject({ type: 'max_expected_run_time', runId: run.id, actionTaken: 'reported; alert: webhook 200' });
    expect(v[0].details).toMatchObject({
      maxExpectedRunTimeMs: 60_000,
      actions: [{ action: 'alert', type: 'webhook', ok: true, status: 200, attempts: 1 }],
    });
    expect((v[0].details.elapsedMs as number) > 60_000).toBe(true);
    expect(hooks.received).toHaveLength(1);
    const hook = hooks.received[0];
    expect(verifyWebhookSignature('k3y', hook.headers['x-jobline-signature'] as string, hook.raw)).toBe(true);
    expect(hook.body).toMatchObject({
      event: 'schedule.violation',
      schedule: { id, name },
      run: { id: run.id, status: 'running' },
      violation: { type: 'max_expected_run_time' },
    });
    expect(g.aborted).toEqual([]);
    g.release();
    await waitFor(
      async () => {
        await sch.tick();
        return (await runs(id))[0].status === 'succeeded';
      },
      20_000,
      'the run to finish',
    );
  });

  it('max_allowed_run_time: the run is cancelled (its signal fires), a violation, and on_timeout actions', async () => {
    await db.jl.actions.add({ name: 'page', type: 'webhook', config: { url: `${hooks.url}/page` } });
    await db.jl.actions.add({
      name: 'cleanup',
      type: 'kick_off_job',
      config: { job: { queue: 'followup', name: 'cleanup', input: { why: 'timeout' } }, passContext: true },
    });
    await db.jl.actions.add({ name: 'not-me', type: 'webhook', config: { url: `${hooks.url}/wrong` } });
    const name = fresh('allowed');
    const { id, run, clock, sch, g } = await runningRun(name, { maxAllowedRunTimeMs: 60_000 }, [
      { action: 'page', trigger: 'on_timeout' },
      { action: 'cleanup', trigger: 'on_timeout' },
      { action: 'not-me', trigger: 'on_violation' },
      { action: 'not-me', trigger: 'on_failure' },
    ]);
    clock.advance(2 * 60_000);
    await sch.tick();
    await waitFor(() => g.aborted.length === 1, 10_000, 'the handler signal');
    expect(g.aborted[0]).toEqual({ jobId: run.job_id, reason: 'CancelledError' });
    await sch.tick();
    const [after] = await runs(id);
    expect([after.status, after.job_state]).toEqual(['timed_out', 'cancelled']);
    expect(after.details.timedOut).toMatchObject({ maxAllowedRunTimeMs: 60_000 });
    const [v] = await db.jl.violations({ schedule: name });
    expect(v.type).toBe('max_allowed_run_time');
    expect(v.actionTaken).toMatch(/^cancelled; page: webhook 200; cleanup: kick_off_job → job \d+$/);
    const kicked = (v.details.actions as any[]).find((a) => a.action === 'cleanup');
    const job = await db.jl.getJob(kicked.jobId);
    expect(job).toMatchObject({ queue: 'followup', name: 'cleanup' });
    expect(job.input).toMatchObject({ why: 'timeout', schedule: { id, name, runId: run.id, trigger: 'on_timeout', violationId: v.id } });
    expect(hooks.received.map((h) => [h.path, h.body.event])).toEqual([['/page', 'schedule.timeout']]);
    const hist = await db.jl.executions(run.job_id);
    expect(hist.map((h) => h.state)).toEqual(['cancelled']);
  });
});

describe('pre- and post-run hooks', () => {
  it('a required pre-run hook that fails skips the run with a violation holding the response status', async () => {
    hooks.respond = () => 500;
    const now = halfPast();
    const name = fresh('pre-required');
    const id = await hourly(name, new Date(now.getTime() - HOUR), {
      constraint: { preRunHook: { url: `${hooks.url}/pre`, required: true, retries: 1, retryDelayMs: 1 } },
    });
    await db.jl.scheduler({ now: () => now, aheadMs: 0 }).tick();
    const [r] = await runs(id);
    expect([r.status, r.job_state]).toEqual(['skipped', 'cancelled']);
    expect(hooks.received).toHaveLength(2); // first try + one retry
    expect(hooks.received[0].body).toMatchObject({ event: 'schedule.pre_run', schedule: { name }, run: { id: r.id } });
    expect(hooks.received[0].headers['x-jobline-delivery']).toBe(hooks.received[1].headers['x-jobline-delivery']);
    const [v] = await db.jl.violations({ schedule: name });
    expect(v).toMatchObject({ type: 'pre_run_hook', actionTaken: 'skipped' });
    expect(v.details).toMatchObject({ ok: false, status: 500, attempts: 2 });
  });

  it('an optional pre-run hook is called before the run; a failure is recorded and the run goes ahead', async () => {
    hooks.respond = (req) => (req.path === '/pre' ? 503 : 200);
    const now = halfPast();
    const name = fresh('pre-post');
    const id = await hourly(name, new Date(now.getTime() - HOUR), {
      constraint: { preRunHook: { url: `${hooks.url}/pre`, retries: 0 }, postRunHook: { url: `${hooks.url}/post`, secret: 'p0st' } },
    });
    const sch = db.jl.scheduler({ now: () => now, aheadMs: 0 });
    await sch.tick();
    let [r] = await runs(id);
    expect(r.status).toBe('scheduled');
    expect(r.details.preRunHook).toMatchObject({ ok: false, status: 503 });
    expect(r.run_at.getTime()).toBe(r.scheduled_at.getTime()); // released after the hook
    await worker(name, async () => ({ done: 1 }));
    await waitFor(
      async () => {
        await sch.tick();
        return (await runs(id))[0].handled_at !== null;
      },
      20_000,
      'the run to finish and be handled',
    );
    [r] = await runs(id);
    expect(r.status).toBe('succeeded');
    expect(r.details.postRunHook).toMatchObject({ ok: true, status: 200 });
    const post = hooks.received.find((h) => h.path === '/post')!;
    expect(post.body).toMatchObject({ event: 'schedule.post_run', run: { id: r.id, status: 'succeeded' } });
    expect(verifyWebhookSignature('p0st', post.headers['x-jobline-signature'] as string, post.raw)).toBe(true);
    expect(verifyWebhookSignature('wrong', post.headers['x-jobline-signature'] as string, post.raw)).toBe(false);
  });
});
