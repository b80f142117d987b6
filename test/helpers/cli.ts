/** Runs the built `jobline` binary against a test database, as a user's shell would. */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { TestDb } from './db.js';

export const JOBLINE_BIN = fileURLToPath(new URL('../../apps/cli/dist/main.js', import.meta.url));

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * `jobline <args>` with only PATH from this environment plus the test database and schema, so
 * nothing of the runner's environment leaks in. `env` adds variables; a `null` value removes one.
 */
export function runJobline(
  db: Pick<TestDb, 'url' | 'schema'>,
  args: string[],
  env: Record<string, string | null> = {},
): Promise<CliResult> {
  const full: NodeJS.ProcessEnv = { PATH: process.env.PATH, DATABASE_URL: db.url, JOBLINE_SCHEMA: db.schema, LOG_LEVEL: 'warn' };
  for (const [k, v] of Object.entries(env)) {
    if (v === null) delete full[k];
    else full[k] = v;
  }
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [JOBLINE_BIN, ...args], { env: full, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}
