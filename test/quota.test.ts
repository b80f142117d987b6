/**
 * Quotas and the usage ledger (issue 15): one charge per finished attempt in the completing
 * transaction (idempotent under retried writes and rescues), balance arithmetic, the group hold
 * set and cleared with events, and bad input refused with nothing written.
 */
import { internals } from '@jobline/core/internal';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GroupEventSchemas, parseEvent } from '@jobline/contracts';
import { NotFoundError, type ValidationError, type JobContext } from '@jobline/core';
import { makeCompleter, type Outcome } from '../packages/core/dist/queue/complete.js';
import { rescueLostJobs } from '../packages/core/dist/queue/maintenance-sql.js';
import { releaseAttempts } from '../packages/core/dist/queue/release.js';
import { toEnvelope } from '../packages/core/dist/events/envelope.js';
import { openTestDb, waitFor, type TestDb } from './helpers/db.js';

let db: TestDb;
let s: string;
beforeAll(async () => {
  db = await openTestDb();
  s = `"${db.schema}"`;
});
afterAll(() => db.close());

/** Enqueues a job of `group` and claims it by hand as worker `w` (attempt + 1, running). */
async function running(group: string, worker = 'w-test'): Promise<{ id: number; attempt: number }> {
  const job = await db.jl.enqueue({ queue: 'metered', name: 'work', group });
  const [r] = await db.q(
    `update $S.jobs set state = 'running', attempt = attempt + 1, worker_id = $2, claimed_at = now(), started_at = now() - interval '250 ms'
      where id = $1 returning id, attempt`,
    [job.id, worker],
  );
  return { id: Number(r.id), attempt: r.attempt };
}

const outcome = (j: { id: number; attempt: number }, nextState: Outcome['nextState'] = 'completed', durationMs = 250): Outcome => ({
  jobId: j.id,
  attempt: j.attempt,
  nextState,
  executionState: nextState === 'completed' ? 'completed' : 'failed',
  outputJson: null,
  errorJson: nextState === 'completed' ? null : JSON.stringify({ message: 'boom' }),
  retryDelayMs: nextState === 'retryable' ? 0 : null,
  durationMs,
  inDag: false,
});

const complete = (batch: Outcome[]) => makeCompleter(db.schema)(internals(db.jl).pool, batch);
const charges = (group: string) =>
  db.q(
    `select job_id::int, attempt, amount::int, execution_state from $S.wallet_transactions where wallet_key = $1 and kind = 'charge' order by id`,
    [group],
  );
const groupEvents = (group: string) =>
  db.q(
    `select id, type, subject, job_id, dag_run_id, data, created_at from $S.events where type like 'dev.jobline.group.%' and data->>'group' = $1 order by id`,
    [group],
  );
const heldReason = async (group: string) =>
  (await db.q(`select held_reason from $S.job_groups where key = $1`, [group]))[0]?.held_reason ?? null;

describe('wallets', () => {
  it('set, top up and read: the ledger records each change with the balance after it', async () => {
    expect(await db.jl.setQuota('acme', { balance: 10 })).toMatchObject({ group: 'acme', unit: 'attempts', balance: 10, held: false });
    expect(await db.jl.topUp('acme', 5, { note: 'invoice 7' })).toMatchObject({ balance: 15, held: false });
    expect(await db.jl.setQuota('acme', { balance: 12, note: 'correction' })).toMatchObject({ balance: 12 });
    expect(await db.jl.getBalance('acme')).toMatchObject({ balance: 12, unit: 'attempts' });
    const { entries } = await db.jl.listLedger('acme');
    expect(entries.map((e) => [e.kind, e.amount, e.balanceAfter, e.note])).toEqual([
      ['set', -3, 12, 'correction'],
      ['top_up', 5, 15, 'invoice 7'],
      ['set', 10, 10, undefined],
    ]);
    const page1 = await db.jl.listLedger('acme', { limit: 2 });
    expect(page1.entries).toHaveLength(2);
    const page2 = await db.jl.listLedger('acme', { limit: 2, before: page1.nextCursor });
    expect(page2).toEqual({ entries: [entries[2]] });
  });

  it('bad input names the field and writes nothing', async () => {
    await db.jl.setQuota('solid', { balance: 3 });
    const count = async () => (await db.q(`select count(*)::int as n from $S.wallet_transactions`))[0].n;
    const before = await count();
    const cases: [() => Promise<unknown>, string, string][] = [
      [() => db.jl.topUp('solid', -5), 'VALIDATION', 'amount'],
      [() => db.jl.topUp('solid', 0), 'VALIDATION', 'amount'],
      [() => db.jl.topUp('solid', 1.5), 'VALIDATION', 'amount'],
      [() => db.jl.topUp('', 1), 'VALIDATION', 'group'],
      [() => db.jl.setQuota('solid', { balance: -1 }), 'VALIDATION', 'balance'],
      [() => db.jl.setQuota('solid', { balance: 1, unit: 'euros' as never }), 'VALIDATION', 'unit'],
      [() => db.jl.listLedger('solid', { limit: 0 }), 'VALIDATION', 'limit'],
    ];
    for (const [call, code, field] of cases) {
      const err = (await call().catch((e) => e)) as ValidationError;
      expect(err.code, field).toBe(code);
      expect(err.issues.map((i) => i.path)).toContain(field);
    }
    const unknown = await db.jl.topUp('nobody', 5).catch((e) => e);
    expect(unknown).toBeInstanceOf(NotFoundError);
    expect(unknown.message).toMatch(/nobody.*setQuota/);
    await expect(db.jl.getBalance('nobody')).rejects.toBeInstanceOf(NotFoundError);
    await expect(db.jl.listLedger('nobody')).rejects.toBeInstanceOf(NotFoundError);
    expect(await count()).toBe(before);
    expect(await db.q(`select 1 from $S.wallets where key = 'nobody'`)).toHaveLength(0);
    expect((await db.jl.getBalance('solid')).balance).toBe(3);
  });

  it('a set inside the caller transaction is rolled back with it', async () => {
    await expect(
      db.jl.transaction(async (tx) => {
        await db.jl.setQuota('rolled', { balance: 5 }, { tx });
        throw new Error('abort');
      }),
    ).rejects.toThrow('abort');
    await expect(db.jl.getBalance('rolled')).rejects.toBeInstanceOf(NotFoundError);
  });
});

describe('charging finished attempts', () => {
  it('charges one unit per finished attempt, holds the group at 0 with an event, releases it after a top-up', async () => {
    await db.jl.setQuota('t-hold', { balance: 3 });
    const jobs = [await running('t-hold'), await running('t-hold')];
    await complete(jobs.map((j) => outcome(j)));
    expect(await db.jl.getBalance('t-hold')).toMatchObject({ balance: 1, held: false });
    expect(await heldReason('t-hold')).toBeNull();
    // A failed attempt is charged too: it used worker time.
    await complete([outcome(await running('t-hold'), 'failed')]);
    expect(await db.jl.getBalance('t-hold')).toMatchObject({ balance: 0, held: true });
    expect(await heldReason('t-hold')).toBe('quota');
    // Running further (claims do not skip held groups on this branch yet) only deepens it, without a second event.
    await complete([outcome(await running('t-hold'))]);
    expect((await db.jl.getBalance('t-hold')).balance).toBe(-1);
    let evs = await groupEvents('t-hold');
    expect(evs.map((e) => e.type)).toEqual(['dev.jobline.group.held']);
    expect(evs[0]).toMatchObject({
      subject: 'jobline.group.held',
      data: { group: 't-hold', reason: 'quota', held: true, balance: 0, unit: 'attempts' },
    });

    // A top-up that leaves the balance at 0 keeps the hold; one that makes it positive releases it.
    expect(await db.jl.topUp('t-hold', 1)).toMatchObject({ balance: 0, held: true });
    expect(await db.jl.topUp('t-hold', 10)).toMatchObject({ balance: 10, held: false });
    expect(await heldReason('t-hold')).toBeNull();
    evs = await groupEvents('t-hold');
    expect(evs.map((e) => e.type)).toEqual(['dev.jobline.group.held', 'dev.jobline.group.released']);
    // Both are valid events for subscribers (@jobline/contracts), with the group key as subject.
    for (const e of evs) {
      const env = parseEvent(
        toEnvelope({ ...e, id: Number(e.id), jobId: e.job_id, dagRunId: e.dag_run_id, createdAt: e.created_at }, '/jobline/test'),
      );
      expect(env.subject).toBe('t-hold');
    }
    expect(
      GroupEventSchemas.released.parse(
        toEnvelope({ ...evs[1], id: Number(evs[1].id), jobId: null, dagRunId: null, createdAt: evs[1].created_at }, '/x'),
      ).data,
    ).toMatchObject({ held: false, balance: 10 });
    // setQuota to 0 holds at once.
    expect(await db.jl.setQuota('t-hold', { balance: 0 })).toMatchObject({ held: true });
    expect((await charges('t-hold')).map((c) => c.amount)).toEqual([-1, -1, -1, -1]);
  });

  it('a retried write of the same outcomes never charges twice; each attempt of a retried job is charged once', async () => {
    await db.jl.setQuota('t-idem', { balance: 100 });
    const a = await running('t-idem');
    const batch = [outcome(a, 'retryable')];
    expect(await complete(batch)).toHaveLength(1);
    // The completer retries a batch whose commit it did not see acknowledged: fenced, it applies nothing.
    expect(await complete(batch)).toHaveLength(0);
    // The retry of the job is attempt 2.
    await db.q(`update $S.jobs set state = 'running', attempt = attempt + 1, started_at = now() where id = $1`, [a.id]);
    const second = [outcome({ id: a.id, attempt: 2 })];
    expect(await complete(second)).toHaveLength(1);
    expect(await complete(second)).toHaveLength(0);
    expect(await charges('t-idem')).toEqual([
      { job_id: a.id, attempt: 1, amount: -1, execution_state: 'failed' },
      { job_id: a.id, attempt: 2, amount: -1, execution_state: 'completed' },
    ]);
    expect((await db.jl.getBalance('t-idem')).balance).toBe(98);
    // The ledger itself refuses a second charge of an attempt.
    await expect(
      db.q(
        `insert into $S.wallet_transactions (wallet_key, kind, amount, balance_after, job_id, attempt) values ('t-idem', 'charge', -1, 0, $1, 1)`,
        [a.id],
      ),
    ).rejects.toThrow(/wallet_transactions_attempt_idx/);
  });

  it("a rescued attempt is charged once (lost), and the dead worker's late completion charges nothing", async () => {
    await db.jl.setQuota('t-rescue', { balance: 5 });
    await db.q(
      `insert into $S.workers (id, hostname, pid, queues, concurrency, heartbeat_at, version) values ('w-dead', 'h', 1, '{metered}', 1, now() - interval '1 hour', 'test')`,
    );
    const j = await running('t-rescue', 'w-dead');
    const rescued = await rescueLostJobs(internals(db.jl).pool, s, 6000);
    expect(rescued.map((r: { id: number }) => r.id)).toContain(j.id);
    // The rescuer pass is retried by the next leader: nothing left to rescue, nothing charged.
    await rescueLostJobs(internals(db.jl).pool, s, 6000);
    expect(await complete([outcome(j)])).toHaveLength(0);
    expect(await charges('t-rescue')).toEqual([{ job_id: j.id, attempt: 1, amount: -1, execution_state: 'lost' }]);
    expect((await db.jl.getBalance('t-rescue')).balance).toBe(4);
  });

  it('a released attempt (worker shutdown hands it back) is not charged; a cancelled running one is', async () => {
    await db.jl.setQuota('t-release', { balance: 5 });
    const j = await running('t-release');
    await releaseAttempts(internals(db.jl).pool, s, [{ id: j.id, attempt: j.attempt }], 'w-test', 'jobline_jobs');
    const k = await running('t-release');
    await db.jl.cancel(k.id);
    expect((await charges('t-release')).map((c) => [c.job_id, c.execution_state])).toEqual([[k.id, 'cancelled']]);
    expect((await db.jl.getBalance('t-release')).balance).toBe(4);
  });

  it('run_ms wallets are charged the attempt run time; groups without a wallet and jobs without a group are not metered', async () => {
    await db.jl.setQuota('t-ms', { unit: 'run_ms', balance: 1000 });
    const a = await running('t-ms');
    const b = await running('t-ms');
    const free = await running('no-wallet');
    const plain = await db.jl.enqueue({ queue: 'metered', name: 'plain' });
    await db.q(`update $S.jobs set state = 'running', attempt = 1, worker_id = 'w', started_at = now() where id = $1`, [plain.id]);
    await complete([outcome(a, 'completed', 250.2), outcome(b, 'completed', 0.1), outcome(free), outcome({ id: plain.id, attempt: 1 })]);
    expect((await charges('t-ms')).map((c) => c.amount).sort((x, y) => x - y)).toEqual([-251, -1]);
    const { entries } = await db.jl.listLedger('t-ms');
    // balance_after is a running balance within one batch.
    expect(
      entries
        .filter((e) => e.kind === 'charge')
        .map((e) => e.balanceAfter)
        .sort((x, y) => x - y),
    ).toEqual([1000 - 251 - 1, entries.find((e) => e.jobId === a.id)!.balanceAfter].sort((x, y) => x - y));
    expect((await db.jl.getBalance('t-ms')).balance).toBe(748);
    expect(await db.q(`select count(*)::int as n from $S.wallet_transactions where job_id = any($1)`, [[free.id, plain.id]])).toEqual([
      { n: 0 },
    ]);
  });

  it('concurrent batches charging the same tenants in different orders neither deadlock nor lose a charge', async () => {
    const tenants = ['c-a', 'c-b', 'c-c'];
    for (const t of tenants) await db.jl.setQuota(t, { balance: 1000 });
    const batches: Outcome[][] = [];
    for (let b = 0; b < 8; b++) {
      const order = b % 2 ? [...tenants].reverse() : tenants;
      const batch: Outcome[] = [];
      for (let k = 0; k < 6; k++) batch.push(outcome(await running(order[k % 3])));
      batches.push(batch);
    }
    const applied = await Promise.all(batches.map((b) => complete(b)));
    expect(applied.flat()).toHaveLength(48);
    for (const t of tenants) {
      expect((await db.jl.getBalance(t)).balance, t).toBe(1000 - 16);
      expect(await charges(t)).toHaveLength(16);
    }
  });

  it('a real worker run charges each attempt of a tenant, including retries', async () => {
    await db.jl.setQuota('t-worker', { balance: 50 });
    const ids: number[] = [];
    for (let i = 0; i < 4; i++)
      ids.push((await db.jl.enqueue({ queue: 'wq', name: 'flaky', group: 't-worker', input: { i }, maxAttempts: 2 })).id);
    const seen = new Map<number, number>();
    const w = db.jl.worker({
      queues: ['wq'],
      concurrency: 4,
      backoff: { baseMs: 1, maxMs: 1, jitter: 0 },
      handlers: {
        flaky: async (input: { i: number }, ctx: JobContext) => {
          seen.set(ctx.job.id, ctx.attempt);
          if (input.i % 2 === 0 && ctx.attempt === 1) throw new Error('first attempt fails');
          return 'ok';
        },
      },
    } as never);
    await w.start();
    try {
      await waitFor(
        async () => (await db.q(`select count(*)::int as n from $S.jobs where queue = 'wq' and state = 'completed'`))[0].n === 4,
        20_000,
        'all four jobs to complete',
      );
    } finally {
      await w.stop();
    }
    const c = await charges('t-worker');
    // 2 jobs × 1 attempt + 2 jobs × 2 attempts = 6 finished attempts, each charged once.
    expect(c).toHaveLength(6);
    expect(new Set(c.map((x) => `${x.job_id}:${x.attempt}`)).size).toBe(6);
    expect((await db.jl.getBalance('t-worker')).balance).toBe(44);
  });
});

describe('deleting a quota', () => {
  it('releases a held group at once (event without a balance), its held jobs run, nothing more is charged', async () => {
    await db.jl.setQuota('t-del', { balance: 0, note: 'trial over' });
    expect(await heldReason('t-del')).toBe('quota');
    const jobs = await db.jl.enqueueMany(Array.from({ length: 3 }, (_, i) => ({ queue: 'delq', name: 'x', group: 't-del', input: { i } })));
    const w = db.jl.worker({ queues: ['delq'], concurrency: 3, pollIntervalMs: 50, handlers: { x: async () => 'ok' } });
    await w.start();
    try {
      await new Promise((r) => setTimeout(r, 300)); // several polls: held jobs wait
      for (const j of jobs) expect((await db.jl.getJob(j.id)).state).toBe('available');
      expect(await db.jl.deleteQuota('t-del')).toMatchObject({ group: 't-del', balance: 0, unit: 'attempts', held: false });
      expect(await heldReason('t-del')).toBeNull();
      await waitFor(
        async () => (await db.q(`select count(*)::int as n from $S.jobs where queue = 'delq' and state = 'completed'`))[0].n === 3,
        10_000,
        'the released jobs',
      );
    } finally {
      await w.stop();
    }
    // Every job ran once; the wallet is gone, the finished attempts charged nothing, and the ledger
    // stays, closed by a `deleted` entry (still readable without the wallet).
    expect((await db.q(`select count(*)::int as n from $S.job_executions where job_id = any($1)`, [jobs.map((j) => j.id)]))[0].n).toBe(3);
    expect(await db.q(`select 1 from $S.wallets where key = 't-del'`)).toHaveLength(0);
    await expect(db.jl.getBalance('t-del')).rejects.toBeInstanceOf(NotFoundError);
    expect((await db.jl.listLedger('t-del')).entries.map((e) => [e.kind, e.amount, e.balanceAfter])).toEqual([
      ['deleted', 0, 0],
      ['set', 0, 0],
    ]);
    const evs = await groupEvents('t-del');
    expect(evs.map((e) => e.type)).toEqual(['dev.jobline.group.held', 'dev.jobline.group.released']);
    expect(evs[1].data).toEqual({ group: 't-del', reason: 'quota', held: false });
    expect(
      GroupEventSchemas.released.parse(
        toEnvelope({ ...evs[1], id: Number(evs[1].id), jobId: null, dagRunId: null, createdAt: evs[1].created_at }, '/x'),
      ).data,
    ).toEqual({ group: 't-del', reason: 'quota', held: false });
    // The group's own row (tier, weight) stays; a new quota continues the ledger.
    expect(await db.q(`select 1 from $S.job_groups where key = 't-del'`)).toHaveLength(1);
    expect(await db.jl.setQuota('t-del', { balance: 2 })).toMatchObject({ balance: 2, held: false });
    expect((await db.jl.listLedger('t-del')).entries.map((e) => e.kind)).toEqual(['set', 'deleted', 'set']);
  });

  it('an unknown wallet is a NotFoundError; a bad key names the field; a delete in a rolled-back transaction keeps the wallet', async () => {
    await expect(db.jl.deleteQuota('nobody-del')).rejects.toBeInstanceOf(NotFoundError);
    await expect(db.jl.deleteQuota('')).rejects.toMatchObject({ code: 'VALIDATION' });
    await db.jl.setQuota('t-keep', { balance: 0 });
    await expect(
      db.jl.transaction(async (tx) => {
        await db.jl.deleteQuota('t-keep', { tx });
        throw new Error('abort');
      }),
    ).rejects.toThrow('abort');
    expect(await db.jl.getBalance('t-keep')).toMatchObject({ balance: 0, held: true });
    // A group that was not held is not "released" again: no event.
    await db.jl.setQuota('t-free', { balance: 5 });
    await db.jl.deleteQuota('t-free', { note: 'contract ended' });
    expect(await groupEvents('t-free')).toEqual([]);
    // The balance left is written off in the ledger, with the note.
    expect((await db.jl.listLedger('t-free')).entries[0]).toMatchObject({
      kind: 'deleted',
      amount: -5,
      balanceAfter: 0,
      note: 'contract ended',
    });
    await expect(db.jl.listLedger('never-metered')).rejects.toBeInstanceOf(NotFoundError);
  });
});
