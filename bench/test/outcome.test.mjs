// The run's exit code (bench/lib/outcome.mjs): a scenario that threw makes `run.mjs` exit 1.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { exitCodeFor, failedResults } from '../lib/outcome.mjs';

const ok = { jobsPerSec: 1000, wallSeconds: 1 };

test('a run whose scenarios all succeeded (or were skipped by design) exits 0', () => {
  const run = { results: { throughput: { jobline: ok, 'pg-boss': ok }, dag: { bullmq: { skipped: 'no DAGs' } } } };
  assert.deepEqual(failedResults(run), []);
  assert.equal(exitCodeFor(run), 0);
  assert.equal(exitCodeFor({ results: {} }), 0);
});

test('one scenario that threw fails the run and is named', () => {
  const run = { results: { throughput: { jobline: ok }, latency: { jobline: { error: 'Error: connect ECONNREFUSED\n    at x.js:1' } } } };
  assert.deepEqual(failedResults(run), [{ scenario: 'latency', system: 'jobline', error: 'Error: connect ECONNREFUSED' }]);
  assert.equal(exitCodeFor(run), 1);
});

test('every scenario throwing fails the run (the case CI used to pass)', () => {
  const err = { error: 'boom' };
  const run = { results: { throughput: { jobline: err, floor: err }, dag: { jobline: err } } };
  assert.equal(failedResults(run).length, 3);
  assert.equal(exitCodeFor(run), 1);
});

test('an interrupted run exits 130 like a shell does for Ctrl-C', () => {
  assert.equal(exitCodeFor({ results: {} }, { interrupted: true }), 130);
});
