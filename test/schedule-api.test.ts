/**
 * The library API of schedules, constraints and actions: every JSON config validated on write
 * with the bad field named, names unique, things in use protected, pause / resume / update /
 * remove re-planning runs not started yet, trigger(), secrets masked on reads, recurring DAG
 * templates, and a leading scheduler following changes over NOTIFY.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ConflictError, DuplicateError, Jobline, NotFoundError, ValidationError } from '@jobline/core';
import { roleGrants } from '@jobline/core/admin';
import { openTestDb, quietLogger, waitFor, type TestDb } from './helpers/db.js';
import { HOUR, clearScheduling } from './helpers/schedule.js';

let db: TestDb;
let q: (text: string, values?: unknown[]) => Promise<any[]>;

beforeAll(async () => {
  db = await openTestDb();
  q = db.q;
});
afterAll(() => db.close());
afterEach(() => clearScheduling(db));

async function issues(p: Promise<unknown>): Promise<string[]> {
  const err = await p.then(
    () => undefined,
    (e) => e,
  );
  expect(err).toBeInstanceOf(ValidationError);
  return (err as ValidationError).issues.map((i) => `${i.path}: ${i.message}`);
}

describe('validation on write names the field', () => {
  it('job templates', async () => {
    expect(await issues(db.jl.schedules.add({ name: 'a', cron: '@hourly', job: { name: '', priority: 'high' as never } }))).toEqual([
      'job.name: job name must not be empty',
      expect.stringMatching(/^job\.priority: /),
    ]);
    expect(await issues(db.jl.schedules.add({ name: 'a', cron: '@hourly', job: { name: 'x', runAt: new Date() } as never }))).toEqual([
      expect.stringMatching(/^job: Unrecognized key: "runAt"/),
    ]);
    expect(await issues(db.jl.schedules.add({ name: 'a', cron: '@hourly', job: { queue: 'no spaces allowed', name: 'x' } }))).toEqual([
      expect.stringMatching(/^job\.queue: queue names use/),
    ]);
    expect(await issues(db.jl.schedules.add({ name: 'a', cron: '@hourly', job: { definition: 'nope' } }))).toEqual([
      expect.stringMatching(/^job\.definition: no job definition "nope" exists/),
    ]);
    expect(await issues(db.jl.schedules.add({ name: 'a', cron: '@hourly' } as never))).toEqual([
      expect.stringMatching(/^job: give exactly one of job/),
    ]);
    expect(await issues(db.jl.schedules.add({ name: 'has space', cron: '@hourly', job: { name: 'x' } }))).toEqual([
      expect.stringMatching(/^name: names use/),
    ]);
  });

  it('DAG templates (graph errors too)', async () => {
    const cyc = await issues(
      db.jl.schedules.add({
        name: 'd',
        cron: '@daily',
        dag: {
          name: 'loop',
          nodes: [
            { key: 'a', name: 'x', dependsOn: ['b'] },
            { key: 'b', name: 'x', dependsOn: ['a'] },
          ],
        },
      }),
    );
    expect(cyc.join('\n')).toMatch(/^dag\.nodes\.\d\.dependsOn.*cycle/m);
    expect(await issues(db.jl.schedules.add({ name: 'd', cron: '@daily', dag: { name: 'x', nodes: [] } }))).toEqual([
      'dag.nodes: a DAG needs at least one node',
    ]);
  });

  it('constraints, inline or shared', async () => {
    expect(
      await issues(
        db.jl.schedules.add({
          name: 'c',
          cron: '@hourly',
          job: { name: 'x' },
          constraint: {
            maxConcurrentRuns: 0,
            concurrencyPolicy: 'queue' as never,
            preRunHook: { url: 'ftp://x' },
            requirePreviousSuccess: { schedule: 'a b' } as never,
          },
        }),
      ),
    ).toEqual([
      expect.stringMatching(/^constraint\.maxConcurrentRuns: /),
      'constraint.concurrencyPolicy: concurrencyPolicy must be "skip" or "delay"',
      'constraint.preRunHook.url: url must be an http:// or https:// URL',
      expect.stringMatching(/^constraint\.requirePreviousSuccess\.schedule: names use/),
    ]);
    expect(await issues(db.jl.schedules.add({ name: 'c', cron: '@hourly', job: { name: 'x' }, constraint: 'missing' }))).toEqual([
      expect.stringMatching(/^constraint: no constraint named "missing"/),
    ]);
    expect(
      await issues(db.jl.constraints.add({ name: 'k', catchUpWindowMs: -5, postRunHook: { url: 'http://h', timeoutMs: 0, retries: 99 } })),
    ).toEqual([
      'catchUpWindowMs: must be at least 1 ms',
      expect.stringMatching(/^postRunHook\.timeoutMs: /),
      expect.stringMatching(/^postRunHook\.retries: /),
    ]);
    expect(await issues(db.jl.constraints.add({ name: 'k', requirePreviousSuccess: { job: 'x', extra: 1 } as never }))).toEqual([
      expect.stringMatching(/^requirePreviousSuccess: /),
    ]);
  });

  it('action configs per type, and bindings', async () => {
    expect(await issues(db.jl.actions.add({ name: 'w', type: 'webhook', config: { method: 'GET' } }))).toEqual([
      expect.stringMatching(/^config\.url: /),
      expect.stringMatching(/^config\.method: /),
    ]);
    expect(await issues(db.jl.actions.add({ name: 'r', type: 'retry', config: { maxRetries: -1 } }))).toEqual([
      expect.stringMatching(/^config\.maxRetries: /),
    ]);
    expect(await issues(db.jl.actions.add({ name: 'k', type: 'kick_off_job', config: { job: { input: 1 } } }))).toEqual([
      'config.job.name: give a job name, or a definition whose name is used',
    ]);
    expect(await issues(db.jl.actions.add({ name: 's', type: 'skip_next_instance', config: { other: 1 } }))).toEqual([
      expect.stringMatching(/^config: Unrecognized key: "other"/),
    ]);
    expect(await issues(db.jl.actions.add({ name: 'x', type: 'explode' as never }))).toEqual([
      expect.stringMatching(/^type: type must be one of retry, /),
    ]);
    await db.jl.actions.add({ name: 'ok', type: 'retry' });
    expect(
      await issues(
        db.jl.schedules.add({
          name: 'b',
          cron: '@hourly',
          job: { name: 'x' },
          actions: [
            { action: 'ok', trigger: 'on_failure' },
            { action: 'ghost', trigger: 'on_failure' },
            { action: 'ok', trigger: 'on_success', constraint: 'whatever' },
            { action: 'ok', trigger: 'sometimes' as never },
          ],
        }),
      ),
    ).toEqual([expect.stringMatching(/^actions\.3\.trigger: trigger must be one of/)]);
    expect(
      await issues(
        db.jl.schedules.add({
          name: 'b',
          cron: '@hourly',
          job: { name: 'x' },
          actions: [
            { action: 'ghost', trigger: 'on_failure' },
            { action: 'ok', trigger: 'on_success', constraint: 'whatever' },
          ],
        }),
      ),
    ).toEqual([
      'actions.0.action: no action named "ghost"; create it first',
      'actions.1.constraint: only on_violation bindings take a constraint',
    ]);
    // nothing of a refused schedule was written
    expect(await db.jl.schedules.list()).toEqual([]);
  });
});

describe('schedules', () => {
  it('add, get, list; names are unique; things in use cannot be removed', async () => {
    await db.jl.actions.add({
      name: 'hook',
      type: 'webhook',
      config: { url: 'http://127.0.0.1:9/x', secret: 'hush', headers: { 'x-team': 'data' } },
    });
    await db.jl.constraints.add({ name: 'serial', maxConcurrentRuns: 1, preRunHook: { url: 'http://127.0.0.1:9/pre', secret: 'hush2' } });
    const sc = await db.jl.schedules.add({
      name: 'nightly',
      description: 'the nightly export',
      cron: '30 2 * * *',
      timezone: 'Europe/Berlin',
      job: { queue: 'exports', name: 'export', input: { full: true } },
      constraint: 'serial',
      actions: [{ action: 'hook', trigger: 'on_failure' }],
    });
    expect(sc).toMatchObject({
      name: 'nightly',
      cron: '30 2 * * *',
      timezone: 'Europe/Berlin',
      paused: false,
      job: { queue: 'exports', name: 'export', input: { full: true } },
      constraint: { name: 'serial', maxConcurrentRuns: 1, concurrencyPolicy: 'skip', catchUp: false, preRunHook: { secret: '********' } },
      actions: [{ action: 'hook', type: 'webhook', trigger: 'on_failure' }],
    });
    // next 02:30 in Berlin
    const berlin = new Intl.DateTimeFormat('en-GB', { timeZone: 'Europe/Berlin', hour: '2-digit', minute: '2-digit' }).format(
      sc.nextRunAt!,
    );
    expect(berlin).toBe('02:30');
    expect((await db.jl.schedules.next('nightly', 3)).map((d) => d.getTime() - sc.nextRunAt!.getTime())).toEqual([
      0,
      expect.any(Number),
      expect.any(Number),
    ]);
    expect((await db.jl.schedules.get(sc.id)).name).toBe('nightly');
    expect((await db.jl.schedules.list()).map((s) => s.name)).toEqual(['nightly']);
    expect((await db.jl.actions.get('hook')).config).toMatchObject({ secret: '********', headers: { 'x-team': 'data' } });
    expect((await db.jl.constraints.list())[0].preRunHook).toMatchObject({ secret: '********' });
    // stored for real
    const [raw] = await q(`select config from $S.actions where name = 'hook'`);
    expect(raw.config.secret).toBe('hush');

    await expect(db.jl.schedules.add({ name: 'nightly', cron: '@daily', job: { name: 'x' } })).rejects.toBeInstanceOf(DuplicateError);
    await expect(db.jl.constraints.remove('serial')).rejects.toThrow(ConflictError);
    await expect(db.jl.actions.remove('hook')).rejects.toThrow(/attached to schedule\(s\) "nightly"/);
    await expect(db.jl.schedules.get('nope')).rejects.toBeInstanceOf(NotFoundError);
    await db.jl.schedules.remove('nightly');
    await db.jl.constraints.remove('serial');
    await db.jl.actions.remove('hook');
    expect(await db.jl.actions.list()).toEqual([]);
  });

  it('pause removes runs not started yet (cancelling their jobs); resume starts from the next occurrence', async () => {
    const sc = await db.jl.schedules.add({ name: 'p', cron: '*/10 * * * *', job: { queue: 'p', name: 'x' } });
    const sch = db.jl.scheduler({ aheadMs: HOUR });
    await sch.tick();
    const before = await q(`select job_id from $S.schedule_runs where schedule_id = $1`, [sc.id]);
    expect(before.length).toBeGreaterThanOrEqual(5);
    const paused = await db.jl.schedules.pause('p');
    expect(paused).toMatchObject({ paused: true, nextRunAt: undefined });
    expect(await q(`select * from $S.schedule_runs where schedule_id = $1`, [sc.id])).toEqual([]);
    const jobs = await q(`select distinct state from $S.jobs where id = any($1::bigint[])`, [before.map((r) => r.job_id)]);
    expect(jobs).toEqual([{ state: 'cancelled' }]);
    sch.invalidate();
    await sch.tick();
    expect(await q(`select * from $S.schedule_runs where schedule_id = $1`, [sc.id])).toEqual([]);
    await db.jl.schedules.resume('p');
    sch.invalidate();
    await sch.tick();
    expect((await q(`select * from $S.schedule_runs where schedule_id = $1`, [sc.id])).length).toBe(before.length);
  });

  it('update re-plans runs not started yet under the new cron, template or constraint', async () => {
    const sc = await db.jl.schedules.add({ name: 'u', cron: '0 * * * *', job: { queue: 'u', name: 'x', input: { v: 1 } } });
    const sch = db.jl.scheduler({ aheadMs: 3 * HOUR });
    await sch.tick();
    const old = await q(`select job_id, scheduled_at from $S.schedule_runs where schedule_id = $1`, [sc.id]);
    expect(old).toHaveLength(3);
    const up = await db.jl.schedules.update('u', {
      cron: '30 * * * *',
      job: { queue: 'u', name: 'x', input: { v: 2 } },
      constraint: { catchUp: true },
    });
    expect(up).toMatchObject({ cron: '30 * * * *', job: { input: { v: 2 } }, constraint: { name: 'schedule:u', catchUp: true } });
    sch.invalidate();
    await sch.tick();
    const fresh = await q(
      `select r.scheduled_at, j.input from $S.schedule_runs r join $S.jobs j on j.id = r.job_id where r.schedule_id = $1 order by 1`,
      [sc.id],
    );
    expect(fresh).toHaveLength(3);
    expect(fresh.every((r) => r.scheduled_at.getUTCMinutes() === 30 && r.input.v === 2)).toBe(true);
    expect(await q(`select distinct state from $S.jobs where id = any($1::bigint[])`, [old.map((r) => r.job_id)])).toEqual([
      { state: 'cancelled' },
    ]);
    // a changed zone must still suit the expression; the error names what changed
    expect(await issues(db.jl.schedules.update('u', { timezone: 'Nowhere/Land' }))).toEqual([expect.stringMatching(/^timezone: /)]);
    // removing the schedule takes its inline constraint with it
    await db.jl.schedules.remove('u');
    expect(await db.jl.constraints.list()).toEqual([]);
    expect(await q(`select distinct j.state from $S.jobs j where j.queue = 'u' and j.input->>'v' = '2'`)).toEqual([{ state: 'cancelled' }]);
  });

  it('trigger starts a run now, even while paused', async () => {
    await db.jl.schedules.add({ name: 't', cron: '0 0 1 1 *', job: { queue: 't', name: 'x', input: { manual: 1 } }, paused: true });
    const run = await db.jl.schedules.trigger('t');
    expect(run).toMatchObject({ trigger: 'manual', status: 'scheduled', attempt: 1 });
    expect(run.gatePassedAt).toBeInstanceOf(Date);
    const job = await db.jl.getJob(run.jobId!);
    expect(job).toMatchObject({
      queue: 't',
      name: 'x',
      state: 'available',
      input: { manual: 1 },
      idempotencyKey: `schedule-run:${run.id}:1`,
    });
    expect((await db.jl.schedules.runs('t')).map((r) => r.id)).toEqual([run.id]);
    expect(await db.jl.schedules.runs('t', { status: 'missed' })).toEqual([]);
    expect(await issues(db.jl.schedules.runs('t', { limit: 0 }))).toEqual([expect.stringMatching(/^limit: /)]);
  });
});

describe('recurring DAGs', () => {
  it('a DAG template is submitted at its time and the run follows the DAG run', async () => {
    const now = new Date();
    now.setUTCMinutes(30, 0, 0);
    const sc = await db.jl.schedules.add({
      name: 'etl',
      cron: '0 * * * *',
      dag: {
        name: 'etl',
        nodes: [
          { key: 'extract', queue: 'etl', name: 'step', input: { n: 1 } },
          { key: 'load', queue: 'etl', name: 'step', dependsOn: ['extract'], input: { from: { $ref: 'extract.output' } } },
        ],
      },
    });
    await q(`update $S.schedules set materialised_until = $2 where id = $1`, [sc.id, new Date(now.getTime() - HOUR)]);
    const sch = db.jl.scheduler({ now: () => now, aheadMs: 2 * HOUR });
    await sch.tick();
    const runs = await db.jl.schedules.runs('etl');
    // the due one was submitted; the future ones wait for their time
    const due = runs.filter((r) => r.scheduledAt <= now);
    expect(due).toHaveLength(1);
    expect(due[0].dagRunId).toBeDefined();
    expect(runs.filter((r) => r.scheduledAt > now).every((r) => r.dagRunId === undefined && r.gatePassedAt === undefined)).toBe(true);
    const dag = await db.jl.getDag(due[0].dagRunId!);
    expect(dag).toMatchObject({ name: 'etl', idempotencyKey: `schedule-run:${due[0].id}:1` });
    const w = db.jl.worker({
      queues: ['etl'],
      pollIntervalMs: 50,
      scheduler: false,
      handlers: { step: async (input: any) => ({ got: input }) },
    });
    await w.start();
    try {
      await waitFor(
        async () => {
          await sch.tick();
          return (await db.jl.schedules.runs('etl')).find((r) => r.id === due[0].id)?.status === 'succeeded';
        },
        20_000,
        'the DAG run to succeed',
      );
    } finally {
      await w.stop();
    }
  });
});

describe('least privilege', () => {
  it('a producer role manages schedules and a worker role runs the scheduler with the grants of roleGrants()', async () => {
    const made: string[] = [];
    const conns: Jobline[] = [];
    const as = async (kind: 'worker' | 'producer') => {
      const role = `${db.schema}_${kind}`;
      made.push(role);
      await db.sql(`create role "${role}" login password 'pw'`);
      for (const g of roleGrants(db.schema, role, kind)) await db.sql(g);
      const url = new URL(db.url);
      url.username = role;
      url.password = 'pw';
      const jl = await Jobline.connect({ databaseUrl: url.toString(), schema: db.schema, migrate: false, logger: quietLogger() });
      conns.push(jl);
      return jl;
    };
    try {
      const producer = await as('producer');
      await producer.actions.add({ name: 'again', type: 'retry' });
      await producer.schedules.add({
        name: 'lp',
        cron: '0 * * * *',
        job: { queue: 'lp', name: 'x' },
        constraint: { catchUp: true, maxConcurrentRuns: 1 },
        actions: [{ action: 'again', trigger: 'on_failure' }],
      });
      await q(`update $S.schedules set materialised_until = date_trunc('hour', now()) - interval '61 minutes' where name = 'lp'`);
      const worker = await as('worker');
      const sch = worker.scheduler({ aheadMs: HOUR });
      await sch.tick(); // materialise, check (one passes, one is skipped), handle the violation
      await sch.flushStats();
      const runs = await producer.schedules.runs('lp');
      expect(runs.map((r) => r.status).sort()).toEqual(['scheduled', 'scheduled', 'skipped']);
      expect(await producer.violations({ schedule: 'lp' })).toHaveLength(1);
      await producer.schedules.pause('lp');
      await producer.schedules.remove('lp');
    } finally {
      await Promise.all(conns.map((c) => c.close()));
      for (const r of made)
        await db
          .sql(`drop owned by "${r}"`)
          .then(() => db.sql(`drop role "${r}"`))
          .catch(() => {});
    }
  });
});

describe('a leading scheduler follows changes over NOTIFY', () => {
  it('a new schedule is materialised without waiting for the index refresh interval', async () => {
    const sch = db.jl.scheduler({ tickIntervalMs: 50, leaseTtlMs: 1000, indexRefreshMs: 600_000, aheadMs: HOUR, id: 'notify-leader' });
    sch.start();
    try {
      await waitFor(() => sch.isLeader && sch.stats.get('iterations') > 0, 10_000, 'leadership');
      const rebuilds = sch.index.rebuilds;
      const sc = await db.jl.schedules.add({ name: 'live', cron: '*/15 * * * *', job: { queue: 'live', name: 'x' } });
      await waitFor(
        async () => (await q(`select count(*)::int as n from $S.schedule_runs where schedule_id = $1`, [sc.id]))[0].n >= 4,
        10_000,
        'runs of the new schedule',
      );
      expect(sch.index.rebuilds).toBeGreaterThan(rebuilds);
      await db.jl.schedules.pause('live');
      await waitFor(() => sch.index.byScheduleName('live')?.paused === true, 10_000, 'the pause to reach the index');
      // paused: nothing is materialised again
      const iterations = sch.stats.get('iterations');
      await waitFor(() => sch.stats.get('iterations') > iterations + 3, 10_000, 'more passes');
      expect(await q(`select * from $S.schedule_runs where schedule_id = $1`, [sc.id])).toEqual([]);
    } finally {
      await sch.stop();
    }
  });
});
