#!/usr/bin/env node
/**
 * Jobline vs pg-boss, graphile-worker, BullMQ (PostgreSQL backend) and a raw-SQL floor, in one
 * run on one PostgreSQL server. Each system gets a fresh database (bench_<system>_<run>, dropped
 * after). Writes bench/results/<run>.json, .md, .svg and .png (quick runs: bench/results/quick/).
 *
 *   node bench/run.mjs [--quick] [--systems a,b] [--scenarios x,y] [--out DIR] [--cpu-prof] [--note TEXT]
 *   node bench/run.mjs --report bench/results/<run>.json   (re-render .md/.svg/.png from the JSON)
 *
 * Needs the built @jobline/core (`npx tsc -b`). See bench/README.md.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { now } from './lib/clock.mjs';
import { createDatabase, dropDatabase, machineInfo, resolveServer } from './lib/server.mjs';
import { writeChart } from './report/chart.mjs';
import { markdownReport } from './report/markdown.mjs';
import { PARAMS, SCENARIOS } from './scenarios/index.mjs';
import { QUICK_SYSTEMS, SYSTEMS, loadSystem } from './systems/index.mjs';

const HERE = fileURLToPath(new URL('.', import.meta.url));

const { values: args } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    systems: { type: 'string' },
    scenarios: { type: 'string' },
    out: { type: 'string' },
    'cpu-prof': { type: 'boolean', default: false },
    note: { type: 'string' },
    report: { type: 'string' },
    help: { type: 'boolean', short: 'h', default: false },
  },
});
if (args.help) {
  console.log(`node bench/run.mjs [--quick] [--systems ${SYSTEMS.join(',')}] [--scenarios ${SCENARIOS.map((s) => s.id).join(',')}] [--out DIR] [--cpu-prof] [--note TEXT] | --report <run>.json`);
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
const list = (s) => s.split(',').map((x) => x.trim()).filter(Boolean);
const systems = args.systems ? list(args.systems) : mode === 'quick' ? QUICK_SYSTEMS : SYSTEMS;
const scenarioIds = args.scenarios ? list(args.scenarios) : SCENARIOS.filter((s) => !(s.optIn && mode === 'quick')).map((s) => s.id);
for (const s of systems) if (!SYSTEMS.includes(s)) throw new Error(`unknown system "${s}"; known: ${SYSTEMS.join(', ')}`);
for (const id of scenarioIds) if (!SCENARIOS.some((s) => s.id === id)) throw new Error(`unknown scenario "${id}"; known: ${SCENARIOS.map((s) => s.id).join(', ')}`);

const stamp = new Date().toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15);
const runId = `${mode}-${stamp}`;
const outDir = args.out ?? join(HERE, 'results', mode === 'quick' ? 'quick' : '');
mkdirSync(outDir, { recursive: true });
const base = join(outDir, runId);
const log = (...a) => console.log(`[bench ${new Date().toISOString().slice(11, 19)}]`, ...a);

const t0 = now();
const server = await resolveServer(log);
const params = PARAMS[mode];
const run = {
  runId,
  mode,
  startedAt: new Date().toISOString(),
  command: `node bench/run.mjs ${process.argv.slice(2).join(' ')}`.trim(),
  note: args.note,
  machine: await machineInfo(server.url, server.source),
  params,
  systems: [],
  results: {},
};
log(`run ${runId}: ${systems.join(', ')} × ${scenarioIds.join(', ')} on ${run.machine.server} (PostgreSQL ${run.machine.postgres}, ${run.machine.cores} cores)`);

const save = () => writeFileSync(`${base}.json`, JSON.stringify(run, null, 2));
const round = (o) => JSON.parse(JSON.stringify(o, (_, v) => (typeof v === 'number' && !Number.isInteger(v) ? Math.round(v * 100) / 100 : v)));

let interrupted = false;
process.on('SIGINT', () => {
  if (interrupted) process.exit(130);
  interrupted = true;
  log('interrupted: finishing the current scenario, then writing results (Ctrl-C again to quit now)');
});

try {
  for (const name of systems) {
    if (interrupted) break;
    const system = await loadSystem(name);
    run.systems.push({ name, label: system.label, settings: system.settings });
    const db = `bench_${name.replace(/[^a-z0-9]/g, '_')}_${stamp.replace('-', '_')}`;
    const url = await createDatabase(server.url, db);
    log(`${system.label}: database ${db}`);
    try {
      await system.install(url);
      for (const sc of SCENARIOS.filter((s) => scenarioIds.includes(s.id))) {
        if (interrupted) break;
        if ((sc.only && !sc.only.includes(name)) || (system.scenarios && !system.scenarios.includes(sc.id))) continue;
        const ctx = {
          system,
          url,
          params,
          log,
          cpuProfDir: args['cpu-prof'] ? (scenario) => join(outDir, 'profiles', runId, `${name}-${scenario}`) : undefined,
        };
        const ts = now();
        let result;
        try {
          result = round(await sc.run(ctx));
        } catch (err) {
          result = { error: err?.stack ?? String(err) };
        }
        result.wallSeconds = Math.round((now() - ts) / 100) / 10;
        result.loadAverage1m = Math.round(os.loadavg()[0] * 100) / 100; // the machine may be shared
        (run.results[sc.id] ??= {})[name] = result;
        const headline = result.error
          ? `ERROR ${result.error.split('\n')[0]}`
          : result.skipped
            ? `skipped: ${result.skipped}`
            : [
                result.jobsPerSec !== undefined && `${Math.round(result.jobsPerSec)} jobs/s`,
                result.latencyMs && `p50 ${result.latencyMs.p50} p95 ${result.latencyMs.p95} p99 ${result.latencyMs.p99} ms`,
                result.rssPeakMiB && `rss ${Math.round(result.rssPeakMiB)} MiB`,
                result.deadTuples !== undefined && `${result.deadTuples} dead tuples`,
                result.nodesPerSec !== undefined && `${Math.round(result.nodesPerSec)} nodes/s`,
              ]
                .filter(Boolean)
                .join(', ');
        log(`  ${name} ${sc.id}: ${headline} (${result.wallSeconds} s)`);
        save();
      }
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
log(`done in ${run.durationSeconds} s: ${base}.{json,md,svg,png} (PNG by ${renderer})`);
