/**
 * The dashboard in a real browser (Debian's Chromium via playwright-core) against the real
 * producer and a seeded schema: what people see, and that acting through it changes the
 * database — and that a read-only token can neither see nor forge actions.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openTestDb, waitFor, type TestDb } from '../helpers/db.js';
import { TOKENS, launch, ledger, seed, shot, signIn, startDashboard, training, type Browser, type Seeded } from './fixtures.js';

// The callbacks given to page.evaluate run in the browser; the few DOM names they use, typed here
// (the test project has no DOM lib: it would change the types of Node's own fetch everywhere).
declare const document: { querySelector(selector: string): { getAttribute(name: string): string | null } | null };
declare function getComputedStyle(element: unknown): { backgroundColor: string; color: string; [k: string]: string };

// The state colours the dashboard promises (apps/dashboard/src/components/ui.tsx), as rendered by the browser.
const COLOURS: Record<string, string> = {
  succeeded: 'rgb(34, 197, 94)',
  failed: 'rgb(239, 68, 68)',
  skipped: 'rgb(168, 162, 158)',
  cancelled: 'rgb(107, 114, 128)',
  running: 'rgb(245, 158, 11)',
  waiting: 'rgb(203, 213, 225)',
  available: 'rgb(59, 130, 246)',
};

let db: TestDb;
let s: Seeded;
let url: string;
let close: () => Promise<void>;
let b: Browser;

beforeAll(async () => {
  db = await openTestDb();
  s = await seed(db);
  const d = await startDashboard(db);
  url = d.url;
  close = () => d.producer.close();
  b = await launch();
});
afterAll(async () => {
  training.release();
  await b?.close();
  await close?.();
  await s?.worker.stop();
  await db?.close();
});

describe('dashboard (operator token)', () => {
  it('asks for a token first, then the overview shows every queue of the seeded database with its depth', async () => {
    const { page } = b;
    const res = await page.goto(`${url}/ui/`);
    expect(res?.status()).toBe(401);
    expect(await page.isVisible('#token')).toBe(true);
    await signIn(page, url, TOKENS.operator);
    await page.waitForSelector('[data-testid=queues] tbody tr');
    const rows = await page.$$eval('[data-testid=queues] tbody tr', (trs) => trs.map((tr) => tr.getAttribute('data-queue')));
    // Every queue with jobs or settings: the seeded ones, the DAG's, and the schedule's ("exports" has no job yet: not listed).
    expect(rows).toEqual(['billing', 'emails', 'etl', 'imports', 'ml', 'reports', 'thumbnails']);
    // Depth per state as in the database (columns: available, running, scheduled, retryable, failed, completed).
    const cells = async (q: string) => page.$$eval(`[data-queue=${q}] td`, (tds) => tds.slice(2, 8).map((td) => td.textContent!.trim()));
    const counts = async (q: string) => {
      const rows = await db.sql(`select state, count(*)::int as n from "${db.schema}".jobs where queue = $1 group by state`, [q]);
      const n = (st: string) => String(rows.find((r) => r.state === st)?.n ?? 0);
      return ['available', 'running', 'scheduled', 'retryable', 'failed', 'completed'].map(n);
    };
    for (const q of ['thumbnails', 'emails', 'imports']) expect(await cells(q), q).toEqual(await counts(q));
    expect((await cells('thumbnails'))[0]).toBe('15');
    expect(await page.textContent('[data-queue=thumbnails]')).toContain('≤ 4'); // its concurrency limit
    expect(await page.$$eval('[data-testid=workers] tbody tr', (r) => r.length)).toBe(1);
    // The live depth chart grows by one sample per poll.
    await page.waitForFunction(
      () => Number(document.querySelector('[data-series=available]')?.getAttribute('data-points')) >= 3,
      undefined,
      { timeout: 20_000 },
    );
    await shot(page, 'overview');
  });

  it("a failed job's page shows its three attempts as a timeline with the error and stack", async () => {
    const { page } = b;
    await page.goto(`${url}/ui/jobs?state=failed`);
    await page.waitForSelector(`[data-job="${s.failedJobId}"]`);
    const listed = await page.$$eval('[data-testid=jobs] tbody tr', (trs) => trs.map((tr) => Number(tr.getAttribute('data-job'))));
    const failedIds = (await db.sql(`select id from "${db.schema}".jobs where state = 'failed' order by id desc`)).map((r) => r.id);
    expect(listed).toEqual(failedIds);
    await shot(page, 'jobs');
    await page.click(`[data-job="${s.failedJobId}"] a`);
    await page.waitForSelector('[data-testid=attempts] .tl-row');
    const attempts = await page.$$eval('[data-testid=attempts] .tl-row', (rows) =>
      rows.map((r) => [r.getAttribute('data-attempt'), r.getAttribute('data-state')]),
    );
    const history = await db.jl.executions(s.failedJobId);
    expect(history.map((e) => [String(e.attempt), e.state])).toEqual([
      ['1', 'failed'],
      ['2', 'failed'],
      ['3', 'failed'],
    ]);
    expect(attempts).toEqual(history.map((e) => [String(e.attempt), e.state]));
    expect(await page.textContent('.stack')).toContain('ledger row 4711');
    expect(await page.textContent('[data-testid=attempts]')).toContain('worker-1');
    await shot(page, 'job-failed');
  });

  it('"Retry now" makes the failed job run again: attempt 4 completes in the database', async () => {
    const { page } = b;
    ledger.fixed = true;
    await page.goto(`${url}/ui/jobs/${s.failedJobId}`);
    await page.click('[data-testid=retry]');
    const job = await waitFor(
      async () => {
        const j = await db.jl.getJob(s.failedJobId);
        return j.state === 'completed' ? j : undefined;
      },
      20_000,
      'the retried job to complete',
    );
    expect(job).toMatchObject({ attempt: 4, maxAttempts: 4, output: { imported: 4711 } });
    expect((await db.jl.executions(s.failedJobId)).map((e) => e.state)).toEqual(['failed', 'failed', 'failed', 'completed']);
    // The page follows: four attempts, the last one completed.
    await page.waitForSelector('[data-testid=attempts] .tl-row[data-attempt="4"][data-state=completed]');
  });

  it('bulk retry of the filtered failed jobs runs each of them again (checked in the database)', async () => {
    const { page } = b;
    const before = (await db.sql(`select id from "${db.schema}".jobs where queue = 'emails' and state = 'failed' order by id`)).map(
      (r) => r.id,
    );
    expect(before.length).toBeGreaterThan(5);
    const onDialog = (d: import('playwright-core').Dialog) => void d.accept();
    page.on('dialog', onDialog);
    try {
      await page.goto(`${url}/ui/jobs?queue=emails&state=failed`);
      await page.waitForSelector('[data-testid=jobs] tbody tr');
      await page.click('[data-testid=bulk-retry]');
      // Each ran a second attempt (the seeded handler fails these addresses again, for good).
      await waitFor(
        async () => {
          const rows = await db.sql(`select count(*)::int as n from "${db.schema}".job_executions where job_id = any($1) and attempt = 2`, [
            before,
          ]);
          return rows[0].n === before.length;
        },
        20_000,
        'second attempts of the bulk-retried jobs',
      );
    } finally {
      page.off('dialog', onDialog);
    }
    const after = await db.sql(`select id, state, attempt from "${db.schema}".jobs where id = any($1) order by id`, [before]);
    expect(after.every((j) => j.state === 'failed' && j.attempt === 2)).toBe(true);
  });

  it("a DAG run's graph has one node per DAG node, coloured by its state, and one edge per dependency", async () => {
    const { page } = b;
    await page.goto(`${url}/ui/dags`);
    await page.waitForSelector('[data-testid=dags] tbody tr');
    await shot(page, 'dags');
    await page.goto(`${url}/ui/dags/${s.dagRunId}`);
    await page.waitForSelector('[data-testid=dag-graph] g.node');
    const run = await db.jl.getDag(s.dagRunId);
    const drawn = await page.$$eval('[data-testid=dag-graph] g.node', (gs) =>
      gs.map((g) => ({
        key: g.getAttribute('data-node'),
        state: g.getAttribute('data-state'),
        fill: getComputedStyle(g.querySelector('rect')!).fill,
      })),
    );
    expect(drawn).toHaveLength(run.nodes.length);
    expect(new Set(run.nodes.map((n) => n.state))).toEqual(new Set(['succeeded', 'failed', 'skipped']));
    for (const n of run.nodes) expect(drawn.find((d) => d.key === n.key)).toEqual({ key: n.key, state: n.state, fill: COLOURS[n.state] });
    const edges = await page.$$eval('[data-testid=dag-graph] path.edge', (ps) => ps.map((p) => p.getAttribute('data-edge')).sort());
    expect(edges).toEqual(run.edges.map((e) => `${e.from}->${e.to}`).sort());
    await page.click('[data-node=transform-us]');
    expect(await page.textContent('[data-testid=node-detail]')).toContain('extract');
    await shot(page, 'dag-run-failed');
  });

  it('a running DAG run is drawn live (running and waiting nodes), and "Cancel run" cancels it in the database', async () => {
    const { page } = b;
    await page.goto(`${url}/ui/dags/${s.runningDagId}`);
    await page.waitForSelector('[data-node=train][data-state=running]');
    const run = await db.jl.getDag(s.runningDagId);
    const drawn = await page.$$eval('[data-testid=dag-graph] g.node', (gs) =>
      gs.map((g) => [g.getAttribute('data-node'), getComputedStyle(g.querySelector('rect')!).fill]),
    );
    expect(Object.fromEntries(drawn)).toEqual(Object.fromEntries(run.nodes.map((n) => [n.key, COLOURS[n.state]])));
    expect(new Set(run.nodes.map((n) => n.state))).toEqual(new Set(['succeeded', 'running', 'waiting']));
    await page.click('[data-node=train]');
    await page.waitForSelector('[data-testid=node-detail]');
    await shot(page, 'dag-run');
    page.once('dialog', (d) => void d.accept());
    await page.click('[data-testid=cancel-dag]');
    await waitFor(async () => (await db.jl.getDag(s.runningDagId)).state === 'cancelled', 10_000, 'the run to be cancelled');
    // The page follows without a reload: every unfinished node is drawn cancelled.
    await page.waitForSelector('[data-node=publish][data-state=cancelled]');
    await page.waitForSelector('[data-node=train][data-state=cancelled]');
  });

  it('schedules show next runs, trigger starts a run, pause pauses; a queue is paused and its limit set from its page (checked in the database)', async () => {
    const { page } = b;
    await page.goto(`${url}/ui/schedules`);
    await page.waitForSelector('[data-schedule=nightly-export]');
    await page.click('[data-schedule=nightly-export] button.link');
    await page.waitForSelector('ol.times li');
    expect(await page.$$eval('ol.times li', (l) => l.length)).toBe(5);
    await page.click('[data-schedule=nightly-export] button:has-text("Trigger")');
    await waitFor(async () => (await db.jl.schedules.runs('nightly-export')).some((r) => r.trigger === 'manual'), 10_000, 'a manual run');
    await page.waitForSelector('text=manual');
    await shot(page, 'schedules');
    page.once('dialog', (d) => void d.accept());
    await page.click('[data-schedule=hourly-digest] button:has-text("Pause")');
    await waitFor(async () => (await db.jl.schedules.get('hourly-digest')).paused, 10_000, 'the schedule to be paused');
    await page.waitForSelector('[data-schedule=hourly-digest] button:has-text("Resume")');

    page.once('dialog', (d) => void d.accept());
    await page.goto(`${url}/ui/queues/thumbnails`);
    await page.click('[data-testid=pause]');
    const queueRow = async () => (await db.sql(`select paused, concurrency_limit from "${db.schema}".queues where name = 'thumbnails'`))[0];
    await waitFor(async () => (await queueRow())?.paused === true, 10_000, 'paused');
    await page.waitForSelector('[data-testid=resume]');
    await page.fill('[data-testid=limit-input]', '6');
    await page.click('[data-testid=set-limit]');
    await waitFor(async () => (await queueRow()).concurrency_limit === 6, 10_000, 'the new concurrency limit');
    await page.waitForSelector('.settings strong:has-text("6")');
    await shot(page, 'queue');
  });

  it("a queue's page shows its group settings and a per-group table; a job's page its group and why it waits", async () => {
    const { page } = b;
    await db.jl.updateQueue('thumbnails', {
      groupConcurrency: { default: 2, tiers: { pro: 5 } },
      groupRateLimit: { limit: 10, periodMs: 1000 },
    });
    await db.jl.updateGroup('tenant-pro', { tier: 'pro', weight: 2 });
    const jobs = await db.jl.enqueueMany([
      ...Array.from({ length: 3 }, () => ({ queue: 'thumbnails', name: 'resize', group: 'tenant-pro' })),
      { queue: 'thumbnails', name: 'resize', group: 'tenant-free' },
    ]);
    await page.goto(`${url}/ui/queues/thumbnails`);
    await page.waitForSelector('[data-testid=groups-table] tbody tr');
    expect(await page.textContent('[data-testid=group-settings]')).toMatch(
      /Per-group concurrency: 2 \(tiers: pro 5\).*Per-group rate limit: 10 per/,
    );
    const rows = await page.$$eval('[data-testid=groups-table] tbody tr', (trs) =>
      trs.map((tr) => [...tr.querySelectorAll('td')].map((td) => td.textContent!.trim())),
    );
    // the queue is paused (previous test): everything is available, nothing runs
    expect(rows).toEqual([
      ['tenant-pro', 'pro', '2', '0', '5', '3', ''],
      ['tenant-free', '–', '1', '0', '2', '1', ''],
    ]);
    await page.goto(`${url}/ui/jobs/${jobs[0]!.id}`);
    await page.waitForSelector('[data-testid=job-group]');
    expect(await page.textContent('[data-testid=job-group]')).toBe('tenant-pro');
    expect(await page.textContent('[data-testid=job-waiting]')).toBe('the queue is paused');
    await shot(page, 'queue-groups');
  });
});

describe('dashboard (read-only token)', () => {
  it('shows no action buttons, and a forged write request gets 403', async () => {
    const { page } = b;
    await signIn(page, url, TOKENS.reader);
    expect(await page.textContent('[data-testid=who]')).toContain('reader · read');
    const [failedEmail] = await db.sql(
      `select id from "${db.schema}".jobs where queue = 'emails' and state = 'failed' order by id limit 1`,
    );
    const [waiting] = await db.sql(
      `select id from "${db.schema}".jobs where queue = 'thumbnails' and state = 'available' order by id limit 1`,
    );
    const paths = [
      '/ui/',
      '/ui/queues/thumbnails',
      `/ui/dags/${s.dagRunId}`,
      '/ui/schedules',
      '/ui/jobs?state=failed',
      `/ui/jobs/${waiting.id}`,
      `/ui/jobs/${failedEmail.id}`,
    ];
    for (const path of paths) {
      await page.goto(url + path);
      await page.waitForSelector('.card');
      await page.waitForLoadState('networkidle');
      expect(
        await page.$$(
          'button.btn.primary, button.btn.danger, [data-testid=retry], [data-testid=cancel], [data-testid=pause], [data-testid=resume], [data-testid=bulk-retry], [data-testid=cancel-dag], [data-testid=set-limit]',
        ),
        path,
      ).toHaveLength(0);
      expect(
        await page.$$(
          'button:has-text("Trigger"), button:has-text("Pause"), button:has-text("Resume"), button:has-text("Retry"), button:has-text("Cancel")',
        ),
        path,
      ).toHaveLength(0);
    }
    expect(await page.textContent('[data-testid=attempts]')).toContain('mailbox of');
    await shot(page, 'read-only-job');
    // Forged from inside the signed-in page (the cookie is sent): refused for lack of the write scope.
    const forge = (path: string, body?: string) =>
      page.evaluate(
        async ([p, b]) => {
          const r = await fetch(p!, {
            method: 'POST',
            headers: { 'x-jobline-dashboard': '1', ...(b ? { 'content-type': 'application/json' } : {}) },
            body: b,
          });
          return { status: r.status, body: (await r.json()) as any };
        },
        [path, body],
      );
    for (const [path, body] of [
      [`/v1/jobs/${waiting.id}/cancel`],
      [`/v1/jobs/${failedEmail.id}/retry`],
      ['/v1/jobs/retry', '{}'],
      ['/v1/queues/thumbnails/resume'],
      [`/v1/dags/${s.dagRunId}/cancel`],
    ] as [string, string?][]) {
      const r = await forge(path, body);
      expect(r.status, path).toBe(403);
      expect(r.body.error.message, path).toContain('lacks the "write" scope');
    }
    // Nothing changed.
    expect((await db.jl.getJob(waiting.id)).state).toBe('available');
    expect((await db.jl.getJob(failedEmail.id)).state).toBe('failed');
  });

  it("a write token's cookie is refused for writes without the dashboard header (no cross-site form can add it)", async () => {
    const { page } = b;
    await db.jl.updateQueue('thumbnails', { paused: true });
    await signIn(page, url, TOKENS.operator);
    const status = await page.evaluate(async () => (await fetch('/v1/queues/thumbnails/resume', { method: 'POST' })).status);
    expect(status).toBe(403);
    expect((await db.sql(`select paused from "${db.schema}".queues where name = 'thumbnails'`))[0].paused).toBe(true);
  });
});
