/**
 * Executor overhead (issue 16): the same trivial program — echo the JSON input back — run as a
 * handler job, a process job (`cat` on the worker's host) and a container job (`cat` in the
 * static busybox image of .ci/podman.sh: create → attach stdin → start → wait → logs → remove),
 * one job at a time through a real worker, so each number is one job's cost and nothing queues.
 *
 *   source .ci/podman.sh && DATABASE_URL=postgres://… node bench/scenarios/executors.mjs [--quick] [--jobs N]
 *
 * Reported per kind, p50/p95/p99/max in ms:
 *   attempt  — the attempt's duration in the execution history (the worker's clock around the
 *              executor's run: for containers, the whole create → remove cycle)
 *   e2e      — enqueue call → the worker's outcome (adds enqueue, NOTIFY wake-up and claim)
 *   engine steps — the same engine calls as the executor, made directly, timed one by one
 *              (where a container job's time goes)
 * Writes bench/results/executors-<stamp>.json and prints a Markdown table. Not part of
 * `node bench/run.mjs` (it needs a container engine); the CI step runs it in --quick mode.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import pg from 'pg';
import pino from 'pino';
import { Jobline } from '@jobline/core';
import { DockerClient, resolveDockerSocket } from '@jobline/core/executors';
import { summarise } from '../lib/stats.mjs';

const IMAGE = 'localhost/jobline-busybox:latest';
const { values } = parseArgs({ options: { quick: { type: 'boolean' }, jobs: { type: 'string' } } });
const perKind = Number(values.jobs ?? (values.quick ? 10 : 200));
const warmup = values.quick ? 2 : 10;
const url = process.env.DATABASE_URL;
if (!url) throw new Error('set DATABASE_URL (e.g. postgres://postgres@127.0.0.1:5432/test)');
const schema = `bench_executors_${process.pid}`;

const jl = await Jobline.connect({ databaseUrl: url, schema, natsUrl: '', logger: pino({ level: 'warn' }) });
const kinds = [
  { kind: 'handler', def: { name: 'echo-handler', executor: 'handler', defaults: { queue: 'bx' } } },
  { kind: 'process', def: { name: 'echo-process', executor: 'process', command: 'cat', defaults: { queue: 'bx' } } },
  {
    kind: 'container',
    def: {
      name: 'echo-container',
      executor: 'container',
      image: IMAGE,
      command: 'cat',
      resources: { network: 'none' },
      container: { pullPolicy: 'never' },
      defaults: { queue: 'bx' },
    },
  },
];
const worker = jl.worker({
  queues: ['bx'],
  concurrency: 1,
  maintenance: false,
  handlers: { 'echo-handler': (input) => input },
  executors: { container: {} },
});
const results = {};
try {
  for (const k of kinds) await jl.createDefinition(k.def);
  await worker.start();
  for (const { kind, def } of kinds) {
    const attempt = [];
    const e2e = [];
    for (let i = 0; i < warmup + perKind; i++) {
      const t0 = performance.now();
      const done = new Promise((resolve) => worker.once('outcome', (job, r) => resolve({ job, r, t: performance.now() })));
      await jl.enqueue({ definition: def.name, input: { i, kind } });
      const { job, r, t } = await done;
      if (!r.ok) throw new Error(`${kind} job ${job.id} failed: ${r.error.message}`);
      if (i >= warmup) {
        attempt.push(r.durationMs);
        e2e.push(t - t0);
      }
    }
    results[kind] = { attemptMs: summarise(attempt), e2eMs: summarise(e2e) };
    process.stderr.write(`${kind}: ${perKind} jobs done\n`);
  }
  results.steps = await engineSteps(values.quick ? 3 : 30);
} finally {
  await worker.stop();
  await jl.close();
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  await c.query(`drop schema if exists "${schema}" cascade`);
  await c.end();
}

/** create → attach → start → (stdin) → wait → logs → remove, each step timed. */
async function engineSteps(n) {
  const c = new DockerClient(resolveDockerSocket());
  const names = ['create', 'attach', 'start', 'wait', 'logs', 'remove'];
  const samples = Object.fromEntries(names.map((k) => [k, []]));
  for (let i = 0; i < n; i++) {
    const t = [performance.now()];
    const body = {
      Image: IMAGE,
      Entrypoint: ['cat'],
      Cmd: [],
      OpenStdin: true,
      StdinOnce: true,
      AttachStdin: true,
      HostConfig: { NetworkMode: 'none' },
    };
    const { value } = await c.json('POST', '/containers/create', { body, what: 'create' });
    t.push(performance.now());
    const stdin = await c.attachStdin(value.Id);
    t.push(performance.now());
    await c.call('POST', `/containers/${value.Id}/start`, { what: 'start' });
    t.push(performance.now());
    stdin.end('{"i":1}\n');
    await c.json('POST', `/containers/${value.Id}/wait`, { what: 'wait' });
    t.push(performance.now());
    await c.call('GET', `/containers/${value.Id}/logs`, { query: { stdout: true, stderr: true }, what: 'logs' });
    t.push(performance.now());
    await c.call('DELETE', `/containers/${value.Id}`, { query: { force: true, v: true }, what: 'remove' });
    t.push(performance.now());
    names.forEach((k, j) => samples[k].push(t[j + 1] - t[j]));
  }
  return Object.fromEntries(names.map((k) => [k, summarise(samples[k])]));
}

const f = (v) => (v === undefined ? '–' : v < 10 ? v.toFixed(2) : v.toFixed(1));
const lines = [
  `| executor | jobs | attempt p50 | p95 | p99 | max | enqueue→outcome p50 | p99 |`,
  `|---|---:|---:|---:|---:|---:|---:|---:|`,
  ...Object.entries(results)
    .filter(([k]) => k !== 'steps')
    .map(
      ([k, r]) =>
        `| ${k} | ${r.attemptMs.count} | ${f(r.attemptMs.p50)} | ${f(r.attemptMs.p95)} | ${f(r.attemptMs.p99)} | ${f(r.attemptMs.max)} | ${f(r.e2eMs.p50)} | ${f(r.e2eMs.p99)} |`,
    ),
];
lines.push('', '| engine step (direct) | n | p50 | p95 | p99 | max |', '|---|---:|---:|---:|---:|---:|');
for (const [k, s] of Object.entries(results.steps ?? {}))
  lines.push(`| ${k} | ${s.count} | ${f(s.p50)} | ${f(s.p95)} | ${f(s.p99)} | ${f(s.max)} |`);
process.stdout.write(lines.join('\n') + '\n');
if (!values.quick) {
  const dir = fileURLToPath(new URL('../results/', import.meta.url));
  mkdirSync(dir, { recursive: true });
  const stamp = new Date().toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15);
  writeFileSync(
    `${dir}executors-${stamp}.json`,
    JSON.stringify({ date: new Date().toISOString(), jobsPerKind: perKind, warmup, image: IMAGE, results }, null, 2) + '\n',
  );
}
