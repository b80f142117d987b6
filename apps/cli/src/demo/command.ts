import { VERSION } from '@jobline/core';
import type { Command } from '../context.js';
import { renderJob } from '../commands/status.js';
import { duration, table, writeJson } from '../output.js';
import { readProgress } from './progress.js';
import { Stack } from './stack.js';
import { summarise, type QueueSummary } from './summary.js';
import { apiClient, enqueueWorkload } from './workload.js';

const QUEUES = ['emails', 'reports', 'media', 'billing', 'housekeeping'];
/** The demo's schedule: a digest email every 2 seconds (6-field cron, seconds first). */
const SCHEDULE = {
  name: 'demo-digest',
  cron: '*/2 * * * * *',
  timezone: 'UTC',
  job: { queue: 'housekeeping', name: 'send-email', input: { to: 'ops@example.com', template: 'digest' } },
};
const DEADLINE_MS = 25_000;

export const demo: Command = {
  name: 'demo',
  summary: 'start PostgreSQL, the producer and two workers, run a mixed workload, print a summary',
  usage: 'demo [--keep] [--json]',
  help: `Starts everything Jobline needs on this machine — an embedded PostgreSQL when DATABASE_URL
is unset (else a throwaway schema in that database), the producer and two worker processes —
enqueues a mixed workload through the HTTP API (handler jobs, process jobs by definition,
payments that succeed on a later attempt, one job that fails for good), shows live progress
and prints a per-queue summary. Everything is stopped and removed at the end or on Ctrl-C.

Options:
  --keep   keep the producer, workers and database running after the summary (Ctrl-C stops)
  --json   print the summary as JSON on stdout (progress goes to stderr)`,
  options: { keep: { type: 'boolean' } },
  async run({ values, json }) {
    const out = json ? process.stderr : process.stdout;
    const say = (s = '') => out.write(s + '\n');
    const tty = out.isTTY === true;
    const stack = new Stack();
    let interrupted = false;
    const onSignal = () => {
      if (interrupted) return stack.killNow();
      interrupted = true;
      say('\ninterrupted: stopping the producer, workers and database …');
      void stack.stop().finally(() => process.exit(130));
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
    process.on('exit', () => stack.killNow());

    const t0 = performance.now();
    const step = async <T>(label: string, fn: () => Promise<T>, detail: (r: T) => string): Promise<T> => {
      const t = performance.now();
      if (tty) out.write(`  … ${label.padEnd(11)}`);
      const r = await fn();
      const line = `  ✓ ${label.padEnd(11)} ${detail(r)}`;
      if (tty) out.write('\r\x1b[2K');
      say(`${line.padEnd(72)} ${duration(performance.now() - t).padStart(8)}`);
      return r;
    };

    try {
      say(`Jobline ${VERSION} demo — a producer, two workers and a mixed workload on PostgreSQL\n`);
      await step(
        'database',
        () => stack.startDatabase(),
        (d) => d,
      );
      await step(
        'migrations',
        () => stack.migrate(),
        (n) => `applied ${n} file(s) to schema "${stack.schema}"`,
      );
      await step(
        'producer',
        () => stack.startProducer(),
        () => `${stack.producerUrl} (bearer-token auth)`,
      );
      await step(
        'workers',
        () => Promise.all([stack.startWorker(1, QUEUES), stack.startWorker(2, QUEUES)]),
        (urls) => `2 processes × concurrency 8, metrics on ${urls.map((u) => u.replace('http://127.0.0.1', '')).join(' and ')}`,
      );
      const api = apiClient(stack.producerUrl, stack.token);
      const tWork = performance.now();
      const work = await step(
        'workload',
        () => enqueueWorkload(api),
        (w) =>
          `${w.total} jobs over HTTP (${Object.entries(w.byQueue)
            .map(([q, n]) => `${q} ${n}`)
            .join(', ')})`,
      );
      for (const n of work.notes) say(`      · ${n}`);
      await step(
        'schedule',
        () => stack.jl!.schedules.add(SCHEDULE),
        () => `${SCHEDULE.name}: cron "${SCHEDULE.cron}" (${SCHEDULE.timezone}) → ${SCHEDULE.job.queue}/${SCHEDULE.job.name}`,
      );
      say('');

      let last = '';
      let lastPrint = 0;
      let finished = 0;
      while (performance.now() - tWork < DEADLINE_MS) {
        const p = await readProgress(api, work.total, SCHEDULE.job.queue);
        finished = p.finished;
        if (tty) out.write(`\r\x1b[2K  ${p.line.slice(0, (process.stdout.columns ?? 120) - 3)}`);
        else if (p.line !== last && performance.now() - lastPrint > 1000) {
          say(`  ${p.line}`);
          lastPrint = performance.now();
        }
        last = p.line;
        if (finished >= work.total) break;
        await new Promise((r) => setTimeout(r, 150));
      }
      if (tty) out.write('\n');
      else say(`  ${last}`);
      const complete = finished >= work.total;
      if (!complete) say(`\n  ! not every job finished within ${DEADLINE_MS / 1000} s; the summary shows where they are`);

      // Pausing cancels the runs materialised ahead (future scheduled jobs), so the summary
      // shows what ran; the housekeeping row counts those cancelled jobs among its JOBS.
      await stack.jl!.schedules.pause(SCHEDULE.name);
      const runs = await stack.jl!.schedules.runs(SCHEDULE.name, { limit: 500 });
      const rows = await summarise(stack.jl!);
      const failed = await stack.jl!.getJob(work.failingJobId);
      const flaky = await stack.jl!.getJob(work.flakyJobId);
      if (json) writeJson({ complete, queues: rows, failedJob: failed, seconds: (performance.now() - t0) / 1000 });
      say(`\nSummary per queue (wait = enqueue → first attempt started)\n`);
      say(indent(renderSummary(rows)));
      const byStatus = new Map<string, number>();
      for (const r of runs) byStatus.set(r.status, (byStatus.get(r.status) ?? 0) + 1);
      say(
        `Schedule ${SCHEDULE.name} (every 2 s): ${[...byStatus].map(([k, n]) => `${n} ${k}`).join(', ') || 'no runs yet'} — \`jobline schedule runs ${SCHEDULE.name}\`\n`,
      );
      say(`A payment that succeeded on attempt ${flaky.attempt} (the gateway timed out twice before):`);
      say(`  jobline status ${flaky.id}  →  ${flaky.state}, ${(await stack.jl!.executions(flaky.id)).map((e) => e.state).join(' → ')}\n`);
      say('The job that failed for good, with its attempts (what `jobline status <id>` prints):\n');
      say(indent(renderJob(failed, await stack.jl!.executions(failed.id))));

      if (values.keep) {
        say(whereNext(stack, true));
        say('Everything keeps running; press Ctrl-C to stop it and remove the database.');
        await new Promise(() => {}); // until a signal
      }
      say(whereNext(stack, false));
      await step(
        'cleanup',
        () => stack.stop(),
        () => 'stopped the producer, workers and database',
      );
      say(`\nDone in ${duration(performance.now() - t0)}.`);
      return complete ? 0 : 1;
    } catch (err) {
      say(`\n  ✗ ${(err as Error).message}`);
      const logs = stack.procs.map((p) => p.log);
      if (logs.length) say(`    logs: ${logs.join(', ')}`);
      await stack.stop(true);
      return 1;
    } finally {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    }
  },
};

const indent = (text: string) => text.trimEnd().replace(/^(?=.)/gm, '  ') + '\n';

function renderSummary(rows: QueueSummary[]): string {
  const total: QueueSummary = rows.reduce(
    (t, r) => ({
      ...t,
      jobs: t.jobs + r.jobs,
      done: t.done + r.done,
      failed: t.failed + r.failed,
      retried: t.retried + r.retried,
      spanMs: Math.max(t.spanMs, r.spanMs),
    }),
    { queue: 'total', jobs: 0, done: 0, failed: 0, retried: 0, spanMs: 0, p50WaitMs: NaN, p99WaitMs: NaN, p50RunMs: NaN },
  );
  const rate = (r: QueueSummary) => (r.spanMs > 0 ? `${Math.round((r.done / r.spanMs) * 1000)}/s` : '-');
  return table(
    [...rows, total],
    [
      { header: 'QUEUE', get: (r) => r.queue },
      { header: 'JOBS', get: (r) => r.jobs, right: true },
      { header: 'DONE', get: (r) => r.done, right: true },
      { header: 'FAILED', get: (r) => r.failed, right: true },
      { header: 'RETRIED', get: (r) => r.retried, right: true },
      { header: 'THROUGHPUT', get: rate, right: true },
      { header: 'P50 WAIT', get: (r) => (Number.isNaN(r.p50WaitMs) ? '' : duration(r.p50WaitMs)), right: true },
      { header: 'P99 WAIT', get: (r) => (Number.isNaN(r.p99WaitMs) ? '' : duration(r.p99WaitMs)), right: true },
      { header: 'P50 RUN', get: (r) => (Number.isNaN(r.p50RunMs) ? '' : duration(r.p50RunMs)), right: true },
    ],
  );
}

function whereNext(stack: Stack, live: boolean): string {
  const api = stack.producerUrl;
  const lines = live
    ? [
        `dashboard   ${api}/ui/#token=${stack.token}`,
        `API         ${api}   token: ${stack.token}`,
        `            curl -H 'authorization: Bearer ${stack.token}' ${api}/v1/queues`,
        `            ${api}/openapi.json · ${api}/metrics`,
        `workers     ${stack.workerUrls.map((u) => `${u}/metrics`).join(' · ')}`,
        `database    DATABASE_URL=${stack.url} JOBLINE_SCHEMA=${stack.schema} jobline status <id>`,
        `events      DATABASE_URL=${stack.url} JOBLINE_SCHEMA=${stack.schema} jobline events tail --from all`,
      ]
    : [
        'jobline demo --keep                      keep all of this running and explore the dashboard, the API, metrics and `jobline status`',
        'jobline --help                           every command; `jobline <command> --help` for its options',
        'apps/README.md                           the producer API, auth tokens, worker options, process jobs, env vars',
        'DATABASE_URL=… jobline migrate           then `jobline producer` and `jobline worker --handlers ./h.js` on your database',
      ];
  return `\nWhere to look next\n${lines.map((l) => `  ${l}`).join('\n')}\n`;
}
