/**
 * Fixture processes exit when their parent goes (test/fixtures/parent-watch.mjs): a runner killed
 * by CI's time limit or Ctrl-C must not leave worker processes polling the database. Each fixture
 * is started by an intermediate process, which is then SIGKILLed (no cleanup of any kind).
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { openTestDb, waitFor, type TestDb } from './helpers/db.js';
import { dead } from './helpers/processes.js';

let db: TestDb;
beforeAll(async () => {
  db = await openTestDb();
});
afterAll(() => db.close());

// The intermediate: starts the fixture, prints its pid once it is ready, then idles.
const INTERMEDIATE = `
  const { spawn } = require('node:child_process');
  const c = spawn(process.execPath, [process.argv[1]], { env: process.env, stdio: ['ignore', 'pipe', 'inherit'] });
  let buf = '';
  c.stdout.on('data', (d) => { buf += d; if (/ready /.test(buf)) { process.stdout.write('child ' + c.pid + '\\n'); buf = ''; } });
  setInterval(() => {}, 1000);
`;

for (const fixture of ['worker-process.mjs', 'dag-worker.mjs', 'schedule-worker.mjs']) {
  it(`${fixture} exits once the process that started it is SIGKILLed`, async () => {
    const path = fileURLToPath(new URL(`./fixtures/${fixture}`, import.meta.url));
    const env = { ...process.env, DATABASE_URL: db.url, JOBLINE_SCHEMA: db.schema, QUEUES: 'orphan', WORKER_ID: `orphan-${fixture}` };
    const mid = spawn(process.execPath, ['-e', INTERMEDIATE, path], { env, stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    mid.stdout.on('data', (d) => (out += d));
    const exited = new Promise((r) => mid.on('exit', r));
    let childPid = 0;
    try {
      childPid = Number((await waitFor(() => /child (\d+)/.exec(out), 30_000, `${fixture} to be ready`))[1]);
      expect(dead(childPid)).toBe(false);
    } finally {
      mid.kill('SIGKILL');
      await exited;
    }
    await waitFor(() => dead(childPid), 10_000, `the orphaned ${fixture} (pid ${childPid}) to exit`);
  });
}
