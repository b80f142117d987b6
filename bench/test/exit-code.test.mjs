// End to end: `run.mjs` exits nonzero when a scenario throws, and 0 when it doesn't (issue 14,
// point 5). Runs the real harness against PostgreSQL (DATABASE_URL or the local server), one
// small scenario of the minimal floor, on the machine's Node (BENCH_NODE=machine: no download).
// BENCH_FAIL_SCENARIO makes the runner throw in that scenario (lib/system-runner.mjs).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const RUN = fileURLToPath(new URL('../run.mjs', import.meta.url));

function bench(extraEnv) {
  const out = mkdtempSync(join(tmpdir(), 'bench-exit-'));
  try {
    const r = spawnSync(process.execPath, [RUN, '--quick', '--systems', 'floor-min', '--scenarios', 'enqueue-bulk', '--out', out], {
      env: { ...process.env, BENCH_NODE: 'machine', ...extraEnv },
      encoding: 'utf8',
      timeout: 120_000,
    });
    const json = readdirSync(out).find((f) => f.endsWith('.json'));
    return { status: r.status, output: r.stdout + r.stderr, run: json && JSON.parse(readFileSync(join(out, json), 'utf8')) };
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
}

test('a scenario that throws makes the run exit 1, with the error in the report', () => {
  const r = bench({ BENCH_FAIL_SCENARIO: 'enqueue-bulk' });
  assert.equal(r.status, 1, r.output);
  assert.match(r.run.results['enqueue-bulk']['floor-min'].error, /injected failure/);
  assert.match(r.output, /FAILED floor-min enqueue-bulk/);
});

test('the same run without the failure exits 0 and measures the scenario', () => {
  const r = bench({});
  assert.equal(r.status, 0, r.output);
  assert.ok(r.run.results['enqueue-bulk']['floor-min'].jobsPerSec > 0);
});
