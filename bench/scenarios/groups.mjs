/**
 * Groups (issue 15): many tenants, one with a huge backlog. 1,000 groups; group `big` has
 * 100,000 queued no-op jobs when one worker process (concurrency 200) starts; meanwhile each of
 * the other 999 groups enqueues one job per second (999 jobs/s, open loop, sent in batches every
 * 10 ms, timestamps in the
 * input). Reported per run: total throughput (every job of the run / time until the last one
 * finished), and the pickup latency (enqueue → handler start) of the small groups' jobs, p50/p99.
 *
 * Runs, side by side on the same server, each in a fresh database:
 *   jobline-groups    queue with groupConcurrency 1,000 (above the worker's concurrency, so the
 *                     limit never binds the backlog: the cost measured is the grouped claim's)
 *   jobline-plain     the same jobs without groups (the reference throughput; small jobs wait
 *                     behind the backlog)
 *   pg-boss-groups    pg-boss 12 `work()` with `groupConcurrency` 1,000, batchSize 50 × 4 local loops
 *                     (200 in flight, as Jobline's concurrency), burstWhenBatchFull (fetch again at
 *                     once while batches come back full), LISTEN/NOTIFY on
 *   pg-boss-plain     the same without groups
 *
 *   node bench/scenarios/groups.mjs [--quick] [--systems jobline,pg-boss]
 *
 * Self-contained (own databases, own child processes) so it also runs from bench/run.mjs as
 * scenario `groups` (registered in scenarios/index.mjs, Jobline only: it runs the peers itself).
 * `--quick`: 100 groups, a 10,000-job backlog.
 */
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import pg from 'pg';
import pino from 'pino';
import { writeFileSync } from 'node:fs';
import { cpuDelta, cpuSnapshot } from '../lib/cpu.mjs';
import { packageVersion } from '../lib/package-version.mjs';

const SELF = fileURLToPath(import.meta.url);
const QUEUE = 'groups';
const CONCURRENCY = 200;
/**
 * Above the worker's concurrency, so the limit never binds the backlog and the throughput ratio
 * measures the grouped claim, not the limit (a limit of 200 would also count jobs whose completion
 * is not written yet). GROUP_LIMIT=… to try a binding one; GROUP_LIMIT=none keeps the group keys
 * but sets no group limit (the plain claim then runs: what grouped data costs without the grouped claim).
 */
const GROUP_LIMIT = process.env.GROUP_LIMIT === 'none' ? undefined : Number(process.env.GROUP_LIMIT ?? 1000);
const SIZES = { full: { groups: 1000, backlog: 100_000 }, quick: { groups: 100, backlog: 10_000 } };
const clock = () => performance.timeOrigin + performance.now();
const pct = (xs, p) => {
  if (!xs.length) return null;
  const s = [...xs].sort((a, b) => a - b);
  return Math.round(s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] * 10) / 10;
};

// ---- systems --------------------------------------------------------------------------------

const jobline = (grouped) => ({
  async install(url) {
    const { Jobline } = await import('@jobline/core');
    const jl = await Jobline.connect({ databaseUrl: url, poolSize: 4, migrate: true, logger: quiet() });
    if (grouped && GROUP_LIMIT) await jl.updateQueue(QUEUE, { groupConcurrency: GROUP_LIMIT });
    await jl.close();
  },
  async producer(url) {
    const { Jobline } = await import('@jobline/core');
    const jl = await Jobline.connect({ databaseUrl: url, poolSize: 10, migrate: false, logger: quiet() });
    const spec = (input, group) => ({ queue: QUEUE, name: 'noop', input, ...(grouped ? { group } : {}) });
    return {
      many: (inputs, group) => jl.enqueueMany(inputs.map((i) => spec(i, group))),
      batch: (jobs) => jl.enqueueMany(jobs.map((j) => spec(j.input, j.group))),
      close: () => jl.close(),
    };
  },
  async worker(url, onJob) {
    const { Jobline } = await import('@jobline/core');
    const jl = await Jobline.connect({ databaseUrl: url, poolSize: 10, migrate: false, logger: quiet() });
    const w = jl.worker({
      queues: [QUEUE],
      concurrency: CONCURRENCY,
      claimBatchSize: 500,
      completionBatchSize: 500,
      completionFlushMs: 2,
      pollIntervalMs: 1000,
      handlers: { noop: async (input) => void onJob(input) },
    });
    await w.start();
    return { stop: async () => (await w.stop(), await jl.close()) };
  },
  remainingSql: `select count(*)::int as n from jobline.jobs where state in ('available', 'running', 'retryable')`,
});

const pgBoss = (grouped) => {
  const boss = async (url, extra = {}) => {
    const { PgBoss } = await import('pg-boss');
    const b = new PgBoss({
      connectionString: url,
      max: 10,
      schedule: false,
      supervise: false,
      migrate: false,
      useListenNotify: true,
      ...extra,
    });
    b.on('error', () => {});
    await b.start();
    return b;
  };
  const opts = (group) => (grouped ? { group: { id: group } } : {});
  return {
    async install(url) {
      const b = await boss(url, { migrate: true });
      await b.createQueue(QUEUE, { policy: 'standard', notify: true });
      await b.stop({ graceful: false, wait: true });
    },
    async producer(url) {
      const b = await boss(url);
      return {
        many: (inputs, group) =>
          b.insert(
            QUEUE,
            inputs.map((data) => ({ data, ...opts(group) })),
          ),
        batch: (jobs) =>
          b.insert(
            QUEUE,
            jobs.map((j) => ({ data: j.input, ...opts(j.group) })),
          ),
        close: () => b.stop({ graceful: false, wait: true }),
      };
    },
    async worker(url, onJob) {
      const b = await boss(url, { supervise: true });
      await b.work(
        QUEUE,
        {
          batchSize: 50,
          localConcurrency: 4,
          burstWhenBatchFull: true,
          pollingIntervalSeconds: 0.5,
          ...(grouped && GROUP_LIMIT ? { groupConcurrency: GROUP_LIMIT } : {}),
        },
        async (jobs) => {
          for (const j of jobs) onJob(j.data);
        },
      );
      return { stop: () => b.stop({ graceful: true, wait: true, timeout: 10_000 }) };
    },
    remainingSql: `select count(*)::int as n from pgboss.job where name = '${QUEUE}' and state < 'completed'`,
  };
};

const RUNS = {
  jobline: [
    ['jobline-groups', () => jobline(true)],
    ['jobline-plain', () => jobline(false)],
  ],
  'pg-boss': [
    ['pg-boss-groups', () => pgBoss(true)],
    ['pg-boss-plain', () => pgBoss(false)],
  ],
};
const systemFor = (run) =>
  Object.values(RUNS)
    .flat()
    .find(([n]) => n === run)[1]();

const quiet = () => pino({ level: process.env.LOG_LEVEL ?? 'warn' });

// ---- child: one worker process ---------------------------------------------------------------

async function child(run, url) {
  const lat = [];
  let handled = 0;
  const w = await systemFor(run).worker(url, (input) => {
    handled++;
    if (input?.t) lat.push(clock() - input.t);
  });
  process.send({ ready: true });
  // Progress for the parent's "backlog drained" check: a count(*) over the jobs table every 100 ms
  // cost the server ~25 ms each, a quarter of a core taken from the run it measures.
  setInterval(() => process.send({ handled }), 100).unref();
  process.on('disconnect', () => process.exit(1)); // the parent is gone
  const cpu0 = process.cpuUsage();
  process.on('message', async (m) => {
    if (m !== 'stop') return;
    const u = process.cpuUsage(cpu0);
    await w.stop().catch(() => {});
    process.send({ done: true, lat, handled, cpuMs: (u.user + u.system) / 1000 }, () => process.exit(0));
  });
}

// ---- parent: one run -------------------------------------------------------------------------

async function withDatabase(url, name, fn) {
  const admin = new pg.Client({ connectionString: url });
  await admin.connect();
  await admin.query(`drop database if exists ${name}`);
  await admin.query(`create database ${name}`);
  const u = new URL(url);
  u.pathname = `/${name}`;
  try {
    return await fn(u.toString());
  } finally {
    await admin.query(`drop database if exists ${name} with (force)`).catch(() => {});
    await admin.end();
  }
}

async function runOne(run, serverUrl, size, log) {
  return withDatabase(serverUrl, `bench_groups_${run.replace(/-/g, '_')}_${process.pid}`, async (url) => {
    const sys = systemFor(run);
    await sys.install(url);
    const p = await sys.producer(url);
    for (let i = 0; i < size.backlog; i += 5000)
      await p.many(
        Array.from({ length: Math.min(5000, size.backlog - i) }, () => ({})),
        'big',
      );
    const db = new pg.Client({ connectionString: url });
    await db.connect();
    await db.query('vacuum analyze');
    const worker = fork(SELF, ['--child', run, url], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    const msgs = [];
    let onMsg = () => {};
    let handledSoFar = 0;
    worker.on('message', (m) => (m.handled !== undefined && !m.done ? (handledSoFar = m.handled) : (msgs.push(m), onMsg())));
    const next = (pred) =>
      new Promise((r) => {
        const check = () => {
          const m = msgs.find(pred);
          if (m) r(m);
        };
        onMsg = check;
        check();
      });
    await next((m) => m.ready);
    const cpu0 = await cpuSnapshot(url);
    const t0 = clock();
    // The trickle: every small group once per second, spread evenly, open loop (due counts come
    // from the clock). What is due is sent every 10 ms as one batch of single jobs, each with its
    // own group and send time: one enqueue transaction per small job (999/s) through one pool was
    // the bottleneck of the full size on 2 cores (pickup p50 ≈ 10 s in both rows, thousands of
    // sends retried after pool timeouts), so the rows measured the producer's queue, not claiming.
    const small = size.groups - 1;
    let sent = 0;
    let sendErrors = 0;
    let trickling = true;
    const pending = new Set();
    const trickle = (async () => {
      while (trickling) {
        const due = Math.floor(((clock() - t0) / 1000) * small);
        if (due > sent) {
          const t = clock();
          const batch = Array.from({ length: due - sent }, (_, i) => ({ input: { t }, group: `g${(sent + i) % small}` }));
          // A send that fails (a pool timeout on a loaded machine) is retried: the jobs must exist.
          const send = (tries) => p.batch(batch).catch((err) => (tries > 0 ? (sendErrors++, send(tries - 1)) : Promise.reject(err)));
          const q = send(5).finally(() => pending.delete(q));
          pending.add(q);
          sent = due;
        }
        await new Promise((r) => setTimeout(r, 10));
      }
    })();
    const remaining = async () => (await db.query(sys.remainingSql)).rows[0].n;
    // the backlog is drained when fewer jobs remain than one second of trickle could leave
    for (;;) {
      await new Promise((r) => setTimeout(r, 100));
      const n = size.backlog + sent - handledSoFar;
      if (n <= small * 2 && clock() - t0 > 1000) break;
      if (clock() - t0 > 20 * 60_000) throw new Error(`${run}: not drained after 20 min (${n} left)`);
    }
    trickling = false;
    await trickle;
    await Promise.all(pending);
    while ((await remaining()) > 0) await new Promise((r) => setTimeout(r, 20));
    const t1 = clock();
    const cpu1 = await cpuSnapshot(url);
    worker.send('stop');
    const done = await next((m) => m.done);
    await db.end();
    await p.close();
    const total = size.backlog + sent;
    const r = {
      run,
      jobs: total,
      smallJobs: sent,
      seconds: Math.round((t1 - t0) / 100) / 10,
      jobsPerSec: Math.round((total / (t1 - t0)) * 1000),
      smallPickupP50Ms: pct(done.lat, 50),
      smallPickupP99Ms: pct(done.lat, 99),
      handled: done.handled,
      // CPU µs per job: producer (this process), worker, PostgreSQL backends of the run's database
      cpuPerJobUs: cpuDelta(cpu0, cpu1, done.cpuMs, total).perJobUs,
      ...(sendErrors ? { sendRetries: sendErrors } : {}),
    };
    log(`${run}: ${JSON.stringify(r)}`);
    return r;
  });
}

const median = (xs) => {
  const v = xs.filter((x) => x !== null && x !== undefined).sort((a, b) => a - b);
  if (!v.length) return null;
  const m = Math.floor(v.length / 2);
  return v.length % 2 ? v[m] : Math.round(((v[m - 1] + v[m]) / 2) * 10) / 10;
};

/**
 * Runs the scenario for the named systems, `repeat` times each, interleaved (grouped then plain,
 * then plain then grouped, …) so that a drift of the machine meets both alike; returns every run,
 * one row per configuration with the medians, and the median of the per-repetition ratios. One
 * full-size run takes 4–8 s, where a neighbour's burst on 2 cores moved a single ratio by ±0.15
 * (0.76–1.05 over five paired runs of one commit), hence the repetitions.
 */
export async function groups({ url, quick = false, systems = ['jobline', 'pg-boss'], repeat = quick ? 1 : 3, log = console.log }) {
  const size = SIZES[quick ? 'quick' : 'full'];
  const runs = [];
  for (let r = 0; r < repeat; r++)
    for (const s of systems) {
      const pair = RUNS[s].map(([run]) => run);
      for (const run of r % 2 ? pair.reverse() : pair) runs.push({ repetition: r + 1, ...(await runOne(run, url, size, log)) });
    }
  const rows = Object.values(RUNS)
    .flat()
    .map(([run]) => runs.filter((x) => x.run === run))
    .filter((xs) => xs.length)
    .map((xs) => ({
      run: xs[0].run,
      repetitions: xs.length,
      jobs: median(xs.map((x) => x.jobs)),
      seconds: median(xs.map((x) => x.seconds)),
      jobsPerSec: median(xs.map((x) => x.jobsPerSec)),
      smallPickupP50Ms: median(xs.map((x) => x.smallPickupP50Ms)),
      smallPickupP99Ms: median(xs.map((x) => x.smallPickupP99Ms)),
      cpuPerJobUs: Object.fromEntries(Object.keys(xs[0].cpuPerJobUs ?? {}).map((k) => [k, median(xs.map((x) => x.cpuPerJobUs?.[k]))])),
    }));
  const ratio = (a, b) => {
    const per = [];
    for (let r = 1; r <= repeat; r++) {
      const x = runs.find((z) => z.run === a && z.repetition === r);
      const y = runs.find((z) => z.run === b && z.repetition === r);
      if (x && y) per.push(Math.round((x.jobsPerSec / y.jobsPerSec) * 100) / 100);
    }
    return per.length ? { median: median(per), each: per } : undefined;
  };
  return {
    size,
    quick,
    repeat,
    rows,
    runs,
    groupedVsPlain: { jobline: ratio('jobline-groups', 'jobline-plain'), 'pg-boss': ratio('pg-boss-groups', 'pg-boss-plain') },
  };
}

/** The report: settings, versions, the medians table, every run, and the target's verdict. */
export function groupsMarkdown(out) {
  const r = out.groupedVsPlain.jobline;
  const lines = [
    `# groups scenario (issue 15), ${new Date().toISOString()}`,
    '',
    `${out.size.groups} groups; group \`big\` has ${out.size.backlog} queued no-op jobs, the other ${out.size.groups - 1} enqueue one job per second each (sent in 10 ms batches).`,
    `One worker process per run, 200 jobs in flight; a fresh database per run; ${out.repeat} interleaved repetition(s), medians shown. Node ${process.versions.node}.`,
    `Jobline ${packageVersion('@jobline/core')}: concurrency 200, claimBatchSize 500, completionBatchSize 500; grouped run with groupConcurrency ${GROUP_LIMIT ?? 'none'}.`,
    `pg-boss ${packageVersion('pg-boss')}: work() batchSize 50 × localConcurrency 4, burstWhenBatchFull, useListenNotify + queue notify, pollingIntervalSeconds 0.5; grouped run with groupConcurrency ${GROUP_LIMIT ?? 'none'}.`,
    '',
    '| run | jobs | s | jobs/s | small groups pickup p50 ms | p99 ms | CPU µs/job worker / PostgreSQL |',
    '|---|---|---|---|---|---|---|',
    ...out.rows.map(
      (x) =>
        `| ${x.run} | ${x.jobs} | ${x.seconds} | ${x.jobsPerSec} | ${x.smallPickupP50Ms} | ${x.smallPickupP99Ms} | ${x.cpuPerJobUs.workers} / ${x.cpuPerJobUs.postgres} |`,
    ),
    '',
    `grouped / plain throughput, median of the repetitions (each): Jobline ${r?.median} (${r?.each.join(', ')}), pg-boss ${out.groupedVsPlain['pg-boss']?.median ?? '—'} (${out.groupedVsPlain['pg-boss']?.each.join(', ') ?? 'not run'})`,
    '',
    out.quick
      ? 'target (Jobline grouped ≥ 0.80 × plain): not judged — --quick drains its backlog within the one second of trickle every run lasts, so its throughput measures that second'
      : `target (Jobline grouped ≥ 0.80 × plain): ${r === undefined ? 'not measured' : r.median >= 0.8 ? 'met' : 'NOT met'}`,
    '',
    '## every run',
    '',
    '| repetition | run | jobs/s | small pickup p50 / p99 ms | CPU µs/job producer / worker / PostgreSQL |',
    '|---|---|---|---|---|',
    ...out.runs.map(
      (x) =>
        `| ${x.repetition} | ${x.run} | ${x.jobsPerSec} | ${x.smallPickupP50Ms} / ${x.smallPickupP99Ms} | ${x.cpuPerJobUs?.producer} / ${x.cpuPerJobUs?.workers} / ${x.cpuPerJobUs?.postgres} |`,
    ),
    '',
  ];
  return lines.join('\n');
}

/** For bench/run.mjs: ctx.url is Jobline's database; the runs use their own databases on that server. */
export const groupsScenario = (ctx) => groups({ url: ctx.url, quick: ctx.params?.drain?.total < 50_000, log: ctx.log });

if (process.argv[1] === SELF) {
  const { values } = parseArgs({
    options: {
      child: { type: 'boolean' },
      quick: { type: 'boolean' },
      systems: { type: 'string' },
      repeat: { type: 'string' },
      out: { type: 'string' },
    },
    allowPositionals: true,
    strict: false,
  });
  if (values.child) {
    const [run, url] = process.argv.slice(3);
    await child(run, url);
  } else {
    const url = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
    const out = await groups({
      url,
      quick: values.quick,
      systems: values.systems ? values.systems.split(',') : undefined,
      ...(values.repeat ? { repeat: Number(values.repeat) } : {}),
    });
    const md = groupsMarkdown(out);
    console.log(md);
    if (values.out) {
      writeFileSync(`${values.out}.json`, `${JSON.stringify(out, null, 2)}\n`);
      writeFileSync(`${values.out}.md`, md);
      console.log(`wrote ${values.out}.json and ${values.out}.md`);
    }
  }
}
