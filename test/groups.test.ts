import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ValidationError, type Job } from '@jobline/core';
import { openTestDb, waitFor, type TestDb } from './helpers/db.js';

let db: TestDb;
beforeAll(async () => {
  db = await openTestDb();
});
afterAll(async () => {
  await db.close();
});

const count = async (where: string, values: unknown[] = []) =>
  (await db.q(`select count(*)::int as n from $S.jobs where ${where}`, values))[0].n as number;

describe('group settings', () => {
  it('reads back groupConcurrency (number or tiers), rateLimit and groupRateLimit; null clears', async () => {
    expect(await db.jl.updateQueue('gs', { groupConcurrency: 3, rateLimit: { limit: 10, periodMs: 1000 } })).toEqual({
      name: 'gs',
      paused: false,
      groupConcurrency: 3,
      rateLimit: { limit: 10, periodMs: 1000 },
    });
    expect(
      await db.jl.updateQueue('gs', {
        groupConcurrency: { default: 2, tiers: { pro: 5 } },
        rateLimit: null,
        groupRateLimit: { limit: 2, periodMs: 50 },
      }),
    ).toEqual({
      name: 'gs',
      paused: false,
      groupConcurrency: { default: 2, tiers: { pro: 5 } },
      groupRateLimit: { limit: 2, periodMs: 50 },
    });
    expect(await db.jl.updateQueue('gs', { groupConcurrency: null, groupRateLimit: null })).toEqual({ name: 'gs', paused: false });
  });

  it('bad input names the field and changes nothing', async () => {
    await db.jl.updateQueue('bad', { groupConcurrency: 4 });
    const cases: [unknown, string][] = [
      [{ groupConcurrency: -1 }, 'groupConcurrency'],
      [{ groupConcurrency: { default: 1, tiers: { pro: 0 } } }, 'groupConcurrency.tiers.pro'],
      [{ rateLimit: { limit: 0, periodMs: 1000 } }, 'rateLimit.limit'],
      [{ groupRateLimit: { limit: 5, periodMs: -5 } }, 'groupRateLimit.periodMs'],
    ];
    for (const [patch, path] of cases) {
      const err = await db.jl.updateQueue('bad', patch as never).catch((e) => e);
      expect(err).toBeInstanceOf(ValidationError);
      expect(err.issues.map((i: { path: string }) => i.path)).toContain(path);
    }
    expect((await db.jl.updateQueue('bad', {})).groupConcurrency).toBe(4);

    const tier = await db.jl.updateGroup('t-1', { tier: 'platinum' }).catch((e) => e);
    expect(tier).toBeInstanceOf(ValidationError);
    expect(tier.issues[0].path).toBe('tier');
    expect(tier.message).toMatch(/unknown tier "platinum"/);
    expect(await db.q(`select * from $S.job_groups where key = 't-1'`)).toEqual([]);
    expect((await db.jl.updateGroup('t-1', { weight: 0 }).catch((e) => e)).issues[0].path).toBe('weight');

    const before = await count('true');
    const notString = await db.jl.enqueue({ queue: 'bad', name: 'x', group: 42 as never }).catch((e) => e);
    expect(notString).toBeInstanceOf(ValidationError);
    expect(notString.issues[0].path).toBe('group');
    const inBatch = await db.jl
      .enqueueMany([
        { queue: 'bad', name: 'x', group: 'ok' },
        { queue: 'bad', name: 'x', group: '' },
      ])
      .catch((e) => e);
    expect(inBatch).toBeInstanceOf(ValidationError);
    expect(await count('true')).toBe(before);
  });

  it('updateGroup sets tier and weight once per group', async () => {
    await db.jl.updateQueue('tiers', { groupConcurrency: { default: 1, tiers: { pro: 3 } } });
    expect(await db.jl.updateGroup('acme', { tier: 'pro', weight: 3 })).toEqual({ key: 'acme', tier: 'pro', weight: 3 });
    expect(await db.jl.updateGroup('acme', { weight: 2 })).toEqual({ key: 'acme', tier: 'pro', weight: 2 });
    expect(await db.jl.updateGroup('acme', { tier: null })).toEqual({ key: 'acme', weight: 2 });
    expect(await db.jl.getGroup('nobody')).toEqual({ key: 'nobody', weight: 1 });
  });
});

describe('grouped claiming', () => {
  it('a small group that enqueues after a 2,000-job backlog starts within the first claims', async () => {
    await db.jl.updateQueue('fair', { groupConcurrency: 1000 });
    await db.jl.enqueueMany(Array.from({ length: 2000 }, (_, i) => ({ queue: 'fair', name: 'x', group: 'big', input: { i } })));
    const small = await db.jl.enqueueMany(Array.from({ length: 20 }, () => ({ queue: 'fair', name: 'x', group: 'small' })));
    const batches: Job[][] = [];
    const w = db.jl.worker({ queues: ['fair'], concurrency: 10, claimBatchSize: 10, claimsInFlight: 1, handlers: { x: async () => null } });
    w.on('claimed', (jobs: Job[]) => batches.push(jobs));
    await w.start();
    await waitFor(
      async () => (await count(`id = any($1) and state = 'completed'`, [small.map((j) => j.id)])) === 20,
      30_000,
      'the small group',
    );
    await w.stop();
    // Each claim of 10 alternates the two groups: the small group's 20 jobs are in the first ~4 claims.
    const lastSmall = batches.findIndex((b) => b.some((j) => j.id === small[19]!.id));
    expect(lastSmall).toBeGreaterThanOrEqual(0);
    expect(lastSmall).toBeLessThan(6);
    for (const b of batches.slice(0, 2)) expect(new Set(b.map((j) => j.group))).toEqual(new Set(['big', 'small']));
  });

  it('weights: a group of weight 3 gets three jobs per round', async () => {
    await db.jl.updateQueue('weights', { groupConcurrency: 1000 });
    await db.jl.updateGroup('heavy', { weight: 3 });
    await db.jl.enqueueMany(Array.from({ length: 40 }, (_, i) => ({ queue: 'weights', name: 'x', group: i % 2 ? 'heavy' : 'light' })));
    const first: Job[] = [];
    const w = db.jl.worker({
      queues: ['weights'],
      concurrency: 8,
      claimBatchSize: 8,
      claimsInFlight: 1,
      handlers: { x: async () => new Promise((r) => setTimeout(r, 2000)) },
    });
    w.on('claimed', (jobs: Job[]) => first.length || first.push(...jobs));
    await w.start();
    await waitFor(() => first.length > 0);
    await w.stop();
    expect(first.filter((j) => j.group === 'heavy').length).toBe(6);
    expect(first.filter((j) => j.group === 'light').length).toBe(2);
  });

  it('group keys with quotes, backslashes, commas and braces survive the one-round-trip claim and its cursors', async () => {
    // The claim's arguments (group cursors among them) are written into its text as literals.
    const keys = ['a"b', 'c\\d', "e'f", '{g,h}', 'NULL', 'ü 😀', ' '];
    await db.jl.updateQueue('oddkeys', { groupConcurrency: 2 });
    const jobs = await db.jl.enqueueMany(
      Array.from({ length: 70 }, (_, i) => ({ queue: 'oddkeys', name: 'x', group: keys[i % keys.length]! })),
    );
    const claims: Job[][] = [];
    const w = db.jl.worker({
      queues: ['oddkeys'],
      concurrency: 6,
      claimBatchSize: 6,
      claimsInFlight: 1,
      claimRescanMs: 60_000, // every claim after the first reads its groups from their cursors
      handlers: { x: async () => null },
    });
    w.on('claimed', (b: Job[]) => claims.push(b));
    await w.start();
    const ids = jobs.map((j) => j.id);
    await waitFor(async () => (await count(`id = any($1) and state = 'completed'`, [ids])) === 70, 30_000, 'every odd-key job');
    await w.stop();
    expect(claims.length).toBeGreaterThan(5);
    const attempts = await db.q(`select job_id, count(*)::int as n from $S.job_executions where job_id = any($1) group by 1`, [ids]);
    expect(attempts.length).toBe(70);
    expect(attempts.every((r) => r.n === 1)).toBe(true);
    expect(new Set(claims.flat().map((j) => j.group))).toEqual(new Set(keys));
  });

  it('priority orders jobs within a group', async () => {
    await db.jl.updateQueue('prio', { groupConcurrency: 1 });
    const low = await db.jl.enqueue({ queue: 'prio', name: 'x', group: 'g', priority: 5 });
    const high = await db.jl.enqueue({ queue: 'prio', name: 'x', group: 'g', priority: -5 });
    const order: number[] = [];
    const w = db.jl.worker({ queues: ['prio'], concurrency: 4, handlers: { x: async (_i, ctx) => void order.push(ctx.job.id) } });
    await w.start();
    await waitFor(() => order.length === 2);
    await w.stop();
    expect(order).toEqual([high.id, low.id]);
  });

  it('held groups wait (reason quota) and run once released; waiting reasons and per-group counts', async () => {
    await db.jl.updateQueue('hold', { groupConcurrency: { default: 1, tiers: { pro: 2 } } });
    await db.jl.updateGroup('vip', { tier: 'pro' });
    await db.q(`insert into $S.job_groups (key, held_reason) values ('broke', 'quota')`);
    const held = await db.jl.enqueue({ queue: 'hold', name: 'x', group: 'broke' });
    const vip = await db.jl.enqueueMany(Array.from({ length: 3 }, () => ({ queue: 'hold', name: 'x', group: 'vip' })));
    let release: () => void = () => {};
    const gate = new Promise<void>((r) => (release = r));
    const w = db.jl.worker({ queues: ['hold'], concurrency: 5, pollIntervalMs: 100, handlers: { x: () => gate } });
    await w.start();
    await waitFor(async () => (await count(`queue = 'hold' and state = 'running'`)) === 2, 10_000, 'two vip jobs running');
    expect((await db.jl.getJob(held.id)).waitingReason).toBe('quota');
    const third = (await Promise.all(vip.map((j) => db.jl.getJob(j.id)))).find((j) => j.state === 'available')!;
    expect(third.waitingReason).toBe('group_limit');
    expect(third.group).toBe('vip');
    expect(await db.jl.listGroups('hold')).toEqual([
      { group: 'vip', running: 2, available: 1, tier: 'pro', weight: 1, limit: 2 },
      { group: 'broke', running: 0, available: 1, weight: 1, heldReason: 'quota', limit: 1 },
    ]);
    await db.q(`update $S.job_groups set held_reason = null where key = 'broke'`);
    await waitFor(async () => (await db.jl.getJob(held.id)).state === 'running', 10_000, 'the released group to run');
    release();
    await waitFor(async () => (await count(`queue = 'hold' and state = 'completed'`)) === 4, 10_000, 'all done');
    await w.stop();

    await db.jl.updateQueue('hold', { paused: true });
    const paused = await db.jl.enqueue({ queue: 'hold', name: 'x', group: 'vip' });
    expect((await db.jl.getJob(paused.id)).waitingReason).toBe('queue_paused');
  });

  it('a held group on a queue without group settings is skipped too (within the routing refresh)', async () => {
    await db.q(
      `insert into $S.job_groups (key, held_reason) values ('broke2', 'quota') on conflict (key) do update set held_reason = 'quota'`,
    );
    const held = await db.jl.enqueue({ queue: 'plain', name: 'x', group: 'broke2' });
    const free = await db.jl.enqueueMany([
      { queue: 'plain', name: 'x' },
      { queue: 'plain', name: 'x', group: 'other' },
    ]);
    const w = db.jl.worker({ queues: ['plain'], concurrency: 5, pollIntervalMs: 100, handlers: { x: async () => null } });
    await w.start();
    await waitFor(async () => (await count(`id = any($1) and state = 'completed'`, [free.map((j) => j.id)])) === 2);
    expect((await db.jl.getJob(held.id)).state).toBe('available');
    await db.q(`update $S.job_groups set held_reason = null where key = 'broke2'`);
    await waitFor(async () => (await db.jl.getJob(held.id)).state === 'completed', 10_000, 'the released job');
    await w.stop();
  });

  it('rate limits: jobs over the window wait (rate_limit), are not failed, and run when it opens', async () => {
    await db.jl.updateQueue('rate', { groupRateLimit: { limit: 3, periodMs: 2000 } });
    const jobs = await db.jl.enqueueMany(Array.from({ length: 6 }, () => ({ queue: 'rate', name: 'x', group: 'r' })));
    const ids = jobs.map((j) => j.id);
    const w = db.jl.worker({ queues: ['rate'], concurrency: 10, pollIntervalMs: 30_000, handlers: { x: async () => null } });
    await w.start();
    await waitFor(async () => (await count(`id = any($1) and state = 'completed'`, [ids])) === 3);
    const waiting = (await Promise.all(jobs.map((j) => db.jl.getJob(j.id)))).filter((j) => j.state === 'available');
    expect(waiting.length).toBe(3);
    expect(waiting.map((j) => j.waitingReason)).toEqual(['rate_limit', 'rate_limit', 'rate_limit']);
    // pollIntervalMs is 30 s: finishing well before shows the worker woke at the window's end.
    await waitFor(async () => (await count(`id = any($1) and state = 'completed'`, [ids])) === 6, 15_000, 'the next window');
    await w.stop();
    const starts = (
      await db.q(`select extract(epoch from started_at) * 1000 as t from $S.job_executions where job_id = any($1) order by started_at`, [
        ids,
      ])
    ).map((r) => Number(r.t));
    expect(starts.length).toBe(6);
    for (let i = 3; i < starts.length; i++) expect(starts[i]! - starts[i - 3]!).toBeGreaterThanOrEqual(2000);
    expect(await count(`id = any($1) and attempt = 1`, [ids])).toBe(6); // waited, never failed
  });

  it('the queue-wide concurrencyLimit still holds on a grouped queue', async () => {
    await db.jl.updateQueue('both', { concurrencyLimit: 2, groupConcurrency: 10 });
    await db.jl.enqueueMany(Array.from({ length: 6 }, (_, i) => ({ queue: 'both', name: 'x', group: `b${i % 3}` })));
    let release: () => void = () => {};
    const gate = new Promise<void>((r) => (release = r));
    const w = db.jl.worker({ queues: ['both'], concurrency: 6, pollIntervalMs: 100, handlers: { x: () => gate } });
    await w.start();
    await waitFor(async () => (await count(`queue = 'both' and state = 'running'`)) === 2);
    await new Promise((r) => setTimeout(r, 300)); // several polls: still two
    expect(await count(`queue = 'both' and state = 'running'`)).toBe(2);
    release();
    await waitFor(async () => (await count(`queue = 'both' and state = 'completed'`)) === 6);
    await w.stop();
  });
});

describe('per-group metrics', () => {
  it('counts claims per group, naming at most GROUP_LABELS_MAX groups (the rest are "_other")', async () => {
    const { createWorkerMetrics } = await import('@jobline/worker');
    await db.jl.enqueueMany(
      Array.from({ length: 60 }, (_, i) => ({ queue: 'metrics', name: 'x', group: `m${String(i).padStart(2, '0')}` })),
    );
    const w = db.jl.worker({ queues: ['metrics'], concurrency: 100, handlers: { x: async () => null } });
    const reg = createWorkerMetrics(w);
    await w.start();
    await waitFor(async () => (await count(`queue = 'metrics' and state = 'completed'`)) === 60);
    await w.stop();
    const lines = reg
      .render()
      .split('\n')
      .filter((l) => l.startsWith('jobline_worker_group_jobs_claimed_total{'));
    expect(lines.length).toBe(51);
    const other = lines.find((l) => l.includes('group="_other"'))!;
    expect(Number(other.split(' ').pop())).toBe(10);
  });
});
