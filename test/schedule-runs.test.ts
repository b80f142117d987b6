/**
 * Runs of schedules with an injected clock: materialised ahead as scheduled jobs, started by the
 * maintenance promoter with no scheduler alive, catch-up with and without a window, two
 * overlapping schedulers never doubling a run, status following, and statistics rows.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { Jobline, type Worker } from '@jobline/core';
import { openTestDb, quietLogger, waitFor, type TestDb } from './helpers/db.js';
import { HOUR, TestClock, addScheduleAt, clearScheduling, halfPast, namer } from './helpers/schedule.js';

let db: TestDb;
let q: (text: string, values?: unknown[]) => Promise<any[]>;
const fresh = namer();

beforeAll(async () => {
  db = await openTestDb();
  q = db.q;
});
afterAll(() => db.close());
// Each test's schedules are its own: a scheduler pass serves every schedule in the schema.
afterEach(() => clearScheduling(db, ['schedules']));

const addSchedule = (name: string, cron: string, cursor: Date, extra: Record<string, unknown> = {}): Promise<number> =>
  addScheduleAt(db, { name, cron, job: { queue: name, name: 'tick', input: { from: name } }, ...extra } as any, cursor);

async function runs(scheduleId: number) {
  return q(
    `select r.id, r.scheduled_at, r.status, r.trigger, r.job_id, j.state as job_state, j.run_at, j.idempotency_key, j.input, j.started_at
       from $S.schedule_runs r left join $S.jobs j on j.id = r.job_id where r.schedule_id = $1 order by r.scheduled_at`,
    [scheduleId],
  );
}

async function withWorker<T>(queue: string, fn: (w: Worker, order: number[]) => Promise<T>, opts: object = {}): Promise<T> {
  const order: number[] = [];
  const w = db.jl.worker({
    queues: [queue],
    concurrency: 1,
    pollIntervalMs: 50,
    promoteIntervalMs: 20,
    scheduler: false,
    handlers: { tick: async (_input, ctx) => void order.push(ctx.job.id) },
    ...opts,
  });
  await w.start();
  try {
    return await fn(w, order);
  } finally {
    await w.stop();
  }
}

describe('materialising ahead', () => {
  it('creates each upcoming run as a scheduled job due at its occurrence, once', async () => {
    // A clock a day ahead of the database: every run is in the database's future, so jobs stay `scheduled`.
    const t0 = new Date(Date.now() + 24 * HOUR);
    t0.setUTCMinutes(0, 0, 0);
    const clock = new TestClock(t0);
    const name = fresh('ahead');
    const id = await addSchedule(name, '*/5 * * * *', t0);
    const sch = db.jl.scheduler({ now: clock.now, aheadMs: 30 * 60_000 });
    await sch.tick();
    let r = await runs(id);
    expect(r.map((x) => x.scheduled_at.getTime() - t0.getTime())).toEqual([5, 10, 15, 20, 25, 30].map((m) => m * 60_000));
    for (const x of r) {
      expect([x.status, x.trigger, x.job_state]).toEqual(['scheduled', 'cron', 'scheduled']);
      expect(x.run_at.getTime()).toBe(x.scheduled_at.getTime());
      expect(x.idempotency_key).toBe(`schedule-run:${x.id}:1`);
      expect(x.input).toEqual({ from: name });
    }
    await sch.tick();
    await sch.tick();
    expect(await runs(id)).toHaveLength(6);
    clock.advance(10 * 60_000);
    await sch.tick();
    r = await runs(id);
    expect(r).toHaveLength(8);
    expect(new Set(r.map((x) => x.job_id)).size).toBe(8);
    const [cursor] = await q(`select materialised_until from $S.schedules where id = $1`, [id]);
    expect(cursor.materialised_until.getTime()).toBe(clock.now().getTime() + 30 * 60_000);
  });

  it('a run that was materialised starts on time with no scheduler alive (leader gap)', async () => {
    const name = fresh('gap');
    const now = new Date();
    const id = await addSchedule(name, '* * * * * *', now);
    // One pass, then the scheduler is gone: the jobs exist and the maintenance leader promotes them.
    const sch = db.jl.scheduler({ aheadMs: 4000 });
    await sch.tick();
    const planned = await runs(id);
    expect(planned.length).toBeGreaterThanOrEqual(3);
    // the first may have come due while the pass ran; the rest wait as scheduled jobs
    expect(planned.slice(1).every((r) => r.job_state === 'scheduled')).toBe(true);
    await withWorker(name, async () => {
      await waitFor(async () => (await runs(id)).filter((r) => r.job_state === 'completed').length >= 3, 20_000, 'three runs to complete');
    });
    for (const r of (await runs(id)).filter((x) => x.job_state === 'completed')) {
      // promoted only once due: never early
      expect(r.started_at.getTime()).toBeGreaterThanOrEqual(r.scheduled_at.getTime());
    }
    // The next leader's pass records what happened and adds nothing twice.
    const next = db.jl.scheduler({ aheadMs: 4000 });
    await next.tick();
    const after = await runs(id);
    expect(after.filter((r) => r.status === 'succeeded').length).toBeGreaterThanOrEqual(3);
    expect(new Set(after.map((r) => r.scheduled_at.getTime())).size).toBe(after.length);
  });
});

describe('catch-up after downtime', () => {
  it('without catch_up only the latest missed run starts; the others are recorded missed', async () => {
    const now = halfPast();
    const clock = new TestClock(now);
    const name = fresh('nocatch');
    const id = await addSchedule(name, '0 * * * *', new Date(now.getTime() - 10 * HOUR));
    const sch = db.jl.scheduler({ now: clock.now, aheadMs: 0 });
    await sch.tick();
    const r = await runs(id);
    expect(r).toHaveLength(10);
    expect(r.slice(0, 9).map((x) => [x.status, x.job_id])).toEqual(Array(9).fill(['missed', null]));
    expect([r[9].status, r[9].trigger, r[9].job_state]).toEqual(['scheduled', 'catch_up', 'available']);
    const stats = await sch.flushStats();
    expect(stats.missedRuns).toBe(9);
    expect(stats.runsMaterialised).toBe(1);
  });

  it('with catch_up and a window, missed runs inside it start oldest first and older ones are missed', async () => {
    const now = halfPast();
    const clock = new TestClock(now);
    const name = fresh('window');
    const id = await addSchedule(name, '0 * * * *', new Date(now.getTime() - 10 * HOUR), {
      constraint: { catchUp: true, catchUpWindowMs: 3 * HOUR + 1 },
    });
    const sch = db.jl.scheduler({ now: clock.now, aheadMs: 0 });
    await sch.tick();
    const r = await runs(id);
    expect(r.map((x) => x.status)).toEqual([...Array(7).fill('missed'), 'scheduled', 'scheduled', 'scheduled']);
    const started = r.filter((x) => x.status === 'scheduled');
    expect(started.every((x) => x.trigger === 'catch_up' && now.getTime() - x.scheduled_at.getTime() <= 3 * HOUR + 1)).toBe(true);
    // Oldest first: a single-slot worker runs them in occurrence order.
    const order = await withWorker(name, async (_w, order) => {
      await waitFor(() => order.length === 3, 20_000, 'the three catch-up runs');
      return order;
    });
    expect(order).toEqual(started.map((x) => x.job_id));
  });

  it('with catch_up and no window, every missed run starts', async () => {
    const now = halfPast();
    const name = fresh('catchall');
    const id = await addSchedule(name, '0 * * * *', new Date(now.getTime() - 10 * HOUR), { constraint: { catchUp: true } });
    await db.jl.scheduler({ now: () => now, aheadMs: 0 }).tick();
    const r = await runs(id);
    expect(r).toHaveLength(10);
    expect(r.every((x) => x.status === 'scheduled' && x.trigger === 'catch_up' && x.job_state === 'available')).toBe(true);
  });

  it('an outage longer than maxRunsPerPass records the latest runs only', async () => {
    const now = new Date();
    const name = fresh('long');
    const id = await addSchedule(name, '* * * * *', new Date(now.getTime() - 30 * 24 * HOUR));
    await db.jl.scheduler({ now: () => now, aheadMs: 0, maxRunsPerPass: 50 }).tick();
    const r = await runs(id);
    expect(r).toHaveLength(50);
    // one run starts: the latest missed one, or the one due on time if the pass ran right at a minute
    expect(r.filter((x) => x.status === 'scheduled')).toHaveLength(1);
    expect(r.at(-1).status).toBe('scheduled');
    expect(now.getTime() - r[0].scheduled_at.getTime()).toBeLessThan(51 * 60_000);
  });
});

describe('exactly one run per occurrence', () => {
  it('two schedulers ticking at once (a leader change mid-pass) never double a run or its job', async () => {
    const other = await Jobline.connect({ databaseUrl: db.url, schema: db.schema, logger: quietLogger(), migrate: false });
    try {
      const t0 = new Date(Date.now() + 48 * HOUR);
      t0.setUTCSeconds(0, 0);
      const clock = new TestClock(t0);
      const ids: number[] = [];
      for (let i = 0; i < 10; i++) ids.push(await addSchedule(fresh('race'), '*/10 * * * * *', t0));
      const a = db.jl.scheduler({ now: clock.now, aheadMs: 60_000, id: 'a' });
      const b = other.scheduler({ now: clock.now, aheadMs: 60_000, id: 'b' });
      for (let i = 0; i < 15; i++) {
        await Promise.all([a.tick(), b.tick(), a.tick()]);
        clock.advance(7000);
      }
      const rows = await q(
        `select r.schedule_id, r.scheduled_at, count(*) over (partition by r.schedule_id, r.scheduled_at) as dup, r.job_id
           from $S.schedule_runs r where r.schedule_id = any($1::bigint[])`,
        [ids],
      );
      expect(rows.length).toBe(10 * Math.floor((15 * 7000 - 7000 + 60_000) / 10_000));
      expect(rows.every((r) => Number(r.dup) === 1 && r.job_id !== null)).toBe(true);
      const [jobs] = await q(
        `select count(*)::int as n, count(distinct idempotency_key)::int as keys from $S.jobs j
          where j.id in (select job_id from $S.schedule_runs where schedule_id = any($1::bigint[]))
             or j.idempotency_key in (select 'schedule-run:' || id || ':1' from $S.schedule_runs where schedule_id = any($1::bigint[]))`,
        [ids],
      );
      expect(jobs).toEqual({ n: rows.length, keys: rows.length });
      const [orphans] = await q(
        `select count(*)::int as n from $S.jobs where queue like 'race-%' and id not in (select job_id from $S.schedule_runs where job_id is not null)`,
      );
      expect(orphans.n).toBe(0);
    } finally {
      await other.close();
    }
  });
});

describe('following runs', () => {
  it('copies job outcomes to runs and records start lag in the statistics', async () => {
    const now = halfPast();
    const name = fresh('follow');
    const id = await addSchedule(name, '0 * * * *', new Date(now.getTime() - 3 * HOUR), { constraint: { catchUp: true } });
    const sch = db.jl.scheduler({ now: () => now, aheadMs: 0, lateAfterMs: 0 });
    await sch.tick();
    const before = await runs(id);
    expect(before).toHaveLength(3);
    // One job fails for good, the others succeed.
    await db.sql(`update "${db.schema}".jobs set max_attempts = 1, input = '{"fail": true}' where id = $1`, [before[1].job_id]);
    const w = db.jl.worker({
      queues: [name],
      concurrency: 1,
      pollIntervalMs: 50,
      scheduler: false,
      handlers: {
        tick: async (input: any) => {
          if (input?.fail) throw new Error('failed on purpose');
        },
      },
    });
    await w.start();
    await waitFor(async () => (await runs(id)).every((r) => ['completed', 'failed'].includes(r.job_state)), 20_000, 'jobs to finish');
    await w.stop();
    await sch.tick();
    const after = await q(
      `select status, started_at, completed_at, handled_at from $S.schedule_runs where schedule_id = $1 order by scheduled_at`,
      [id],
    );
    expect(after.map((r) => r.status)).toEqual(['succeeded', 'failed', 'succeeded']);
    expect(after.every((r) => r.started_at && r.completed_at && r.handled_at)).toBe(true);
    const stats = await sch.flushStats();
    expect(stats.runsStarted).toBe(3);
    // every one started after its occurrence (lateAfterMs 0): late
    expect(stats.lateRuns).toBe(3);
    expect(stats.maxLagMs).toBeGreaterThan(2 * HOUR);
    expect(stats.iterations).toBe(2);
  });
});

describe('statistics', () => {
  it('a scheduler writes one row per period and one when leadership ends', async () => {
    const start = new Date(Date.now() + 72 * HOUR);
    start.setUTCMinutes(0, 0, 0);
    const clock = new TestClock(start);
    const name = fresh('stats');
    const id = await addSchedule(name, '*/15 * * * *', clock.now());
    const sch = db.jl.scheduler({ now: clock.now, aheadMs: 3600_000, statsPeriodMs: 60_000, id: 'stats-leader' });
    await sch.tick(); // materialises 4
    clock.advance(30_000);
    await sch.tick();
    clock.advance(31_000);
    await sch.tick(); // period over: a row
    const rows = (await db.jl.schedulerStats(10)).filter((r) => r.holder === 'stats-leader');
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ iterations: 3, runsMaterialised: 4, missedRuns: 0 });
    expect(rows[0].periodEnd.getTime() - rows[0].periodStart.getTime()).toBe(61_000);
    expect(rows[0].indexRebuilds).toBeGreaterThanOrEqual(1);
    expect(rows[0].maxTickMs).toBeGreaterThan(0);
    // The leader loop: leadership taken and given back writes the partial period.
    const live = db.jl.scheduler({ tickIntervalMs: 20, leaseTtlMs: 300, id: 'stats-live' });
    live.start();
    await waitFor(() => live.isLeader && live.stats.get('iterations') >= 2, 10_000, 'leadership');
    await live.stop();
    const liveRows = (await db.jl.schedulerStats(50)).filter((r) => r.holder === 'stats-live');
    expect(liveRows).toHaveLength(1);
    expect(liveRows[0].iterations).toBeGreaterThanOrEqual(2);
  });
});
