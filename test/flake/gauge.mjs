#!/usr/bin/env node
/**
 * Flake gauge: runs the whole suite N times under CPU load and reports, per test, how often it
 * failed. A suite that is green 10 runs out of 10 here is one a red run can be trusted from.
 *
 *   npm run test:flake -- [--runs 10] [--busy N] [--shuffle] [--keep]
 *
 *   --runs N     suite runs (default 10)
 *   --busy N     busy-loop processes kept spinning during the runs (default: one per core); 0 = none
 *   --shuffle    run i uses vitest sequence.shuffle with seed <base>+i (printed), to catch order dependence too
 *   --keep       keep each run's JSON report (printed path)
 *   --coverage   measure coverage in run 1 (./coverage/, summary printed), so a gauge can stand in for one CI run
 *   [files…]     only these test files (vitest filters), e.g. to gauge one suspect file
 *
 * Uses DATABASE_URL as the suite does (unset: each run starts its own embedded PostgreSQL).
 * The busy loops are this script's children, killed by pid when it ends (also on Ctrl-C).
 * Exits 1 when any run had a failure.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const VITEST = join(ROOT, 'node_modules/vitest/vitest.mjs');
const { values: a, positionals: only } = parseArgs({
  allowPositionals: true,
  options: {
    runs: { type: 'string', default: '10' },
    busy: { type: 'string' },
    shuffle: { type: 'boolean', default: false },
    seed: { type: 'string', default: '1000' },
    keep: { type: 'boolean', default: false },
    coverage: { type: 'boolean', default: false },
  },
});
const runs = Number(a.runs);
const busyCount = a.busy === undefined ? os.cpus().length : Number(a.busy);
if (!Number.isInteger(runs) || runs < 1) throw new Error('--runs must be a whole number ≥ 1');
if (!Number.isInteger(busyCount) || busyCount < 0) throw new Error('--busy must be a whole number ≥ 0');

const dir = mkdtempSync(join(os.tmpdir(), 'jobline-flake-'));
const busy = [];
const stopBusy = () => {
  for (const p of busy.splice(0)) if (p.exitCode === null && p.signalCode === null) process.kill(p.pid, 'SIGKILL');
};
let current; // the running suite, ended with us on Ctrl-C
process.on('exit', stopBusy);
for (const sig of ['SIGINT', 'SIGTERM']) {
  process.on(sig, () => {
    stopBusy();
    if (current && current.exitCode === null) current.kill('SIGTERM');
    process.exit(130);
  });
}
for (let i = 0; i < busyCount; i++) busy.push(spawn(process.execPath, ['-e', 'for (;;) {}'], { stdio: 'ignore' }));
console.log(
  `flake gauge: ${runs} runs, ${busyCount} busy loop(s) (pids ${busy.map((p) => p.pid).join(', ') || '-'}), ${os.cpus().length} cores, DATABASE_URL ${process.env.DATABASE_URL ? 'set' : 'unset (embedded)'}`,
);

function runSuite(i) {
  const out = join(dir, `run-${i}.json`);
  const args = [VITEST, 'run', '--reporter=dot', '--reporter=json', `--outputFile.json=${out}`, ...only];
  const seed = Number(a.seed) + i;
  if (a.shuffle) args.push('--sequence.shuffle', `--sequence.seed=${seed}`);
  if (a.coverage && i === 1)
    args.push('--coverage', '--coverage.reporter=json-summary', '--coverage.reporter=text-summary', '--coverage.reporter=text');
  const t0 = Date.now();
  return new Promise((resolve) => {
    const child = (current = spawn(process.execPath, args, { cwd: ROOT, env: process.env, stdio: ['ignore', 'ignore', 'pipe'] }));
    let stderr = '';
    child.stderr.on('data', (d) => (stderr = (stderr + d).slice(-4000)));
    child.on('close', (code) => {
      let report;
      try {
        report = JSON.parse(readFileSync(out, 'utf8'));
      } catch {
        report = undefined;
      }
      resolve({
        i,
        code,
        seconds: Math.round((Date.now() - t0) / 100) / 10,
        load: os.loadavg()[0],
        report,
        stderr,
        seed: a.shuffle ? seed : undefined,
        out,
      });
    });
  });
}

const results = [];
const failures = new Map(); // "file › test" → runs it failed in
for (let i = 1; i <= runs; i++) {
  const r = await runSuite(i);
  results.push(r);
  const files = r.report?.testResults ?? [];
  let passed = 0;
  let failed = 0;
  for (const f of files) {
    const file = f.name.replace(ROOT, '');
    if (f.status === 'failed' && !(f.assertionResults ?? []).some((t) => t.status === 'failed')) {
      // a file that failed outside its tests (hooks, import, setup)
      const key = `${file} › (the file itself: ${String(f.message ?? '')
        .split('\n')[0]
        .slice(0, 80)})`;
      failures.set(key, [...(failures.get(key) ?? []), i]);
      failed++;
    }
    for (const t of f.assertionResults ?? []) {
      if (t.status === 'passed') passed++;
      else if (t.status === 'failed') {
        failed++;
        const key = `${file} › ${t.fullName}`;
        failures.set(key, [...(failures.get(key) ?? []), i]);
      }
    }
  }
  if (!r.report) {
    failed++;
    failures.set(`(run ${i}: no report; exit ${r.code}) ${r.stderr.split('\n').filter(Boolean).pop() ?? ''}`, [i]);
  }
  Object.assign(r, { passed, failed, files: files.length });
  if (failed) for (const [k, v] of failures) if (v.includes(i)) console.log(`  failed: ${k}`);
  console.log(
    `run ${i}/${runs}: ${failed ? 'RED' : 'green'}: ${passed} passed, ${failed} failed, ${files.length} files, exit ${r.code}, ${r.seconds} s, load ${r.load.toFixed(2)}${r.seed !== undefined ? `, seed ${r.seed}` : ''}`,
  );
  if (a.coverage && i === 1) {
    try {
      const t = JSON.parse(readFileSync(join(ROOT, 'coverage/coverage-summary.json'), 'utf8')).total;
      console.log(
        `  coverage (run 1): lines ${t.lines.pct}%, statements ${t.statements.pct}%, functions ${t.functions.pct}%, branches ${t.branches.pct}%`,
      );
    } catch {
      console.log('  coverage (run 1): no summary written (a failing run writes none)');
    }
  }
}
stopBusy();
printTables();
if (a.keep) console.log(`\nreports: ${dir}`);
else rmSync(dir, { recursive: true, force: true });
process.exitCode = results.some((r) => r.failed || r.code) ? 1 : 0;

/** The runs so far and every test that failed in any of them. */
function printTables() {
  console.log(`\n| run | result | tests passed | failed | files | exit | seconds | load (1 min) |${a.shuffle ? ' seed |' : ''}`);
  console.log(`|---|---|---|---|---|---|---|---|${a.shuffle ? '---|' : ''}`);
  for (const r of results) {
    console.log(
      `| ${r.i} | ${r.failed || r.code ? 'red' : 'green'} | ${r.passed} | ${r.failed} | ${r.files} | ${r.code} | ${r.seconds} | ${r.load.toFixed(2)} |${a.shuffle ? ` ${r.seed} |` : ''}`,
    );
  }
  const red = results.filter((r) => r.failed || r.code);
  console.log(`\n${results.length - red.length}/${results.length} runs green under ${busyCount} busy loop(s).`);
  if (failures.size) {
    console.log('\n| test | failed in runs |\n|---|---|');
    for (const [k, v] of [...failures].sort((x, y) => y[1].length - x[1].length))
      console.log(`| ${k} | ${v.length}/${results.length} (${v.join(', ')}) |`);
  }
}
