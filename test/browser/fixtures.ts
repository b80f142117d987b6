/**
 * Browser-test fixtures: a seeded Jobline schema (real jobs run by a real worker, so attempts,
 * timings and outcomes are genuine), the real producer serving the built dashboard, and
 * Debian's Chromium driven by playwright-core.
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { ApiTokensSchema, createProducer, type Producer } from '@jobline/producer';
import { NonRetryableError, type Worker } from '@jobline/core';
import { quietLogger, waitFor, type TestDb } from '../helpers/db.js';

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

export const TOKENS = { operator: 'operator-token-0123456789abcdef', reader: 'reader-token-0123456789abcdef' };
const TOKEN_CONFIG = [
  { name: 'operator', token: TOKENS.operator, queues: ['*'], scopes: ['read', 'write', 'admin'] },
  { name: 'reader', token: TOKENS.reader, queues: ['*'], scopes: ['read'] },
];

/** Switches the seeded `ledger-import` handler from failing to succeeding (the retry test). */
export const ledger = { fixed: false };

/** Holds the seeded `train` handler (a DAG node that stays running) until released or aborted. */
export const training = (() => {
  let open!: () => void;
  const released = new Promise<void>((r) => (open = r));
  return { released, release: () => open() };
})();

export interface Seeded {
  failedJobId: number;
  dagRunId: number;
  /** A run whose `train` node is running (and its children waiting) while the tests look. */
  runningDagId: number;
  queues: string[];
  worker: Worker;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Jobs in several queues and states, one job failed after 3 attempts, one DAG run with every terminal node state, a schedule. */
export async function seed(db: TestDb): Promise<Seeded> {
  const { jl } = db;
  const handlers = {
    'send-email': async (input: any) => {
      await sleep(2 + (input.i % 7));
      if (input.i % 29 === 7) throw new NonRetryableError(`mailbox of ${input.to} is full`);
      return { sent: true };
    },
    'build-report': async (input: any, ctx: any) => {
      await ctx.progress(50);
      await sleep(5 + (input.n % 4) * 3);
      await ctx.progress(100);
      return { pages: 3 + input.n };
    },
    charge: async (input: any, ctx: any) => {
      await sleep(15);
      if (ctx.attempt < 2) throw Object.assign(new Error('card network timeout'), { code: 'ETIMEDOUT' });
      return { charged: input.amount };
    },
    'ledger-import': async () => {
      await sleep(40);
      if (!ledger.fixed) throw Object.assign(new Error('ledger row 4711: amount is not a number'), { code: 'BAD_ROW' });
      return { imported: 4711 };
    },
    extract: async () => ({ rows: 120 }),
    transform: async (input: any) => {
      if (input.fail) throw new NonRetryableError('schema mismatch in column "price"');
      return { ok: true };
    },
    load: async () => ({ loaded: true }),
    step: async () => {
      await sleep(20);
      return { ok: true };
    },
    train: async (_input: any, ctx: any) => {
      await ctx.progress(35);
      await Promise.race([training.released, new Promise((r) => ctx.signal.addEventListener('abort', r, { once: true }))]);
      return { accuracy: 0.93 };
    },
  };
  const queues = ['billing', 'emails', 'imports', 'reports', 'thumbnails'];
  const emails = await jl.enqueueMany(
    Array.from({ length: 300 }, (_, i) => ({ queue: 'emails', name: 'send-email', input: { i, to: `user${i}@example.com` } })),
  );
  const reports = await jl.enqueueMany(Array.from({ length: 8 }, (_, n) => ({ queue: 'reports', name: 'build-report', input: { n } })));
  const charges = await jl.enqueueMany(
    Array.from({ length: 3 }, (_, i) => ({ queue: 'billing', name: 'charge', input: { amount: 10 * (i + 1) }, maxAttempts: 3 })),
  );
  const failed = await jl.enqueue({ queue: 'imports', name: 'ledger-import', input: { file: 's3://ledgers/2026-11.csv' }, maxAttempts: 3 });
  // Waiting work nobody runs: a backlog and future jobs.
  await jl.enqueueMany(Array.from({ length: 15 }, (_, i) => ({ queue: 'thumbnails', name: 'resize', input: { image: `img-${i}.png` } })));
  await jl.enqueueMany(Array.from({ length: 5 }, () => ({ queue: 'emails', name: 'digest', runAt: new Date(Date.now() + 3600_000) })));
  const dag = await jl.submitDag({
    name: 'nightly-etl',
    failurePolicy: 'continue',
    nodes: [
      { key: 'extract', queue: 'etl', name: 'extract' },
      { key: 'transform-eu', queue: 'etl', name: 'transform', dependsOn: ['extract'], input: { fail: false } },
      { key: 'transform-us', queue: 'etl', name: 'transform', dependsOn: ['extract'], input: { fail: true }, maxAttempts: 1 },
      { key: 'load-eu', queue: 'etl', name: 'load', dependsOn: ['transform-eu'] },
      { key: 'load-us', queue: 'etl', name: 'load', dependsOn: ['transform-us'] },
      { key: 'report', queue: 'etl', name: 'load', dependsOn: ['load-eu', 'load-us'] },
    ],
  });
  const daily = await jl.submitDag({
    name: 'daily-report',
    nodes: [
      { key: 'collect', queue: 'etl', name: 'step' },
      { key: 'aggregate', queue: 'etl', name: 'step', dependsOn: ['collect'] },
      { key: 'render', queue: 'etl', name: 'step', dependsOn: ['aggregate'] },
    ],
  });
  const training_ = await jl.submitDag({
    name: 'model-training',
    nodes: [
      { key: 'fetch-data', queue: 'ml', name: 'step' },
      { key: 'features-text', queue: 'ml', name: 'step', dependsOn: ['fetch-data'] },
      { key: 'features-image', queue: 'ml', name: 'step', dependsOn: ['fetch-data'] },
      { key: 'train', queue: 'ml', name: 'train', dependsOn: ['features-text', 'features-image'] },
      { key: 'evaluate', queue: 'ml', name: 'step', dependsOn: ['train'] },
      { key: 'publish', queue: 'ml', name: 'step', dependsOn: ['evaluate'] },
      { key: 'notify', queue: 'ml', name: 'step', dependsOn: ['evaluate'] },
    ],
  });
  await jl.schedules.add({
    name: 'nightly-export',
    cron: '30 2 * * *',
    timezone: 'Europe/Berlin',
    job: { queue: 'exports', name: 'export', input: { full: true } },
  });
  await jl.schedules.add({ name: 'hourly-digest', cron: '0 * * * *', timezone: 'UTC', job: { queue: 'emails', name: 'digest' } });
  await jl.updateQueue('thumbnails', { concurrencyLimit: 4 });

  const worker = jl.worker({
    queues: ['billing', 'emails', 'imports', 'reports', 'etl', 'ml'],
    concurrency: 8,
    handlers: handlers as any,
    backoff: { baseMs: 20, maxMs: 40 },
    scheduler: false,
    id: 'worker-1',
  });
  await worker.start();
  const ids = [...emails, ...reports, ...charges, failed].map((j) => j.id);
  await waitFor(
    async () => {
      const [r] = await db.sql(
        `select count(*)::int as n from "${db.schema}".jobs where id = any($1) and state in ('completed', 'failed')`,
        [ids],
      );
      const [run, d2, ml] = await Promise.all([jl.getDag(dag.id), jl.getDag(daily.id), jl.getDag(training_.id)]);
      return (
        r.n === ids.length &&
        run.state !== 'running' &&
        d2.state !== 'running' &&
        ml.nodes.find((n) => n.key === 'train')!.state === 'running'
      );
    },
    30_000,
    'seeded jobs and two DAG runs to finish, and the third to be training',
  );
  // An hour of history in a few seconds: the finished single jobs (not the failed job the tests
  // follow) are moved back in time by up to 55 minutes, every timestamp of a job by the same
  // offset, so the charts show a working hour while waits and run times stay as measured.
  const spread = [...emails, ...reports, ...charges].map((j) => j.id);
  await db.sql(
    `with o as (select id, (random() * 55 + 1) * interval '1 minute' as d from "${db.schema}".jobs where id = any($1)),
          j as (update "${db.schema}".jobs x set created_at = created_at - o.d, run_at = run_at - o.d, claimed_at = claimed_at - o.d,
                       started_at = started_at - o.d, completed_at = completed_at - o.d, updated_at = updated_at - o.d
                  from o where x.id = o.id returning x.id)
     update "${db.schema}".job_executions e set started_at = e.started_at - o.d, finished_at = e.finished_at - o.d from o where e.job_id = o.id`,
    [spread],
  );
  // What autovacuum would have done by now: the overview's table-size estimate reads pg_class.
  await db.sql(`analyze "${db.schema}".jobs`);
  return { failedJobId: failed.id, dagRunId: dag.id, runningDagId: training_.id, queues, worker };
}

export async function startDashboard(db: TestDb): Promise<{ producer: Producer; url: string }> {
  const producer = createProducer({
    jl: db.jl,
    config: { tokens: ApiTokensSchema.parse(TOKEN_CONFIG), maxBodyBytes: 64 * 1024 },
    logger: quietLogger(),
    validateResponses: true,
  });
  return { producer, url: await producer.listen(0) };
}

export interface Browser {
  context: BrowserContext;
  page: Page;
  close(): Promise<void>;
}

export async function launch(): Promise<Browser> {
  if (!existsSync(CHROMIUM)) {
    throw new Error(`Chromium is not at ${CHROMIUM}: install Debian's package (apt-get install -y chromium) or set CHROMIUM_PATH`);
  }
  const profile = mkdtempSync(join(tmpdir(), 'jobline-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    viewport: { width: 1440, height: 900 },
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
  const page = context.pages()[0] ?? (await context.newPage());
  // A script error in the dashboard fails loudly in the test output rather than as a missing element.
  page.on('pageerror', (err) => process.stderr.write(`[dashboard page error] ${err.stack ?? err.message}\n`));
  page.on('console', (m) => m.type() === 'error' && process.stderr.write(`[dashboard console] ${m.text()}\n`));
  return {
    context,
    page,
    async close() {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

/** Signs in through the dashboard's own form. */
export async function signIn(page: Page, url: string, token: string): Promise<void> {
  await page.context().clearCookies();
  await page.goto(`${url}/ui/`);
  await page.fill('#token', token);
  await Promise.all([page.waitForURL(`${url}/ui/`), page.click('button[type=submit]')]);
  await page.waitForSelector('[data-testid=who]');
}

/**
 * Screenshots go to a temporary folder, or to docs/screenshots/ with JOBLINE_SCREENSHOTS=docs
 * (how the README's pictures are made).
 */
export const SHOT_DIR =
  process.env.JOBLINE_SCREENSHOTS === 'docs' ? join(import.meta.dirname, '../../docs/screenshots') : join(tmpdir(), 'jobline-screenshots');
export async function shot(page: Page, name: string): Promise<string> {
  mkdirSync(SHOT_DIR, { recursive: true });
  const path = join(SHOT_DIR, `${name}.png`);
  await page.screenshot({ path, fullPage: true });
  return path;
}
