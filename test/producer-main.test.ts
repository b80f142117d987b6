import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { databaseUrl, uniqueSchema } from './helpers/db.js';
import pg from 'pg';

const MAIN = fileURLToPath(new URL('../apps/producer/dist/main.js', import.meta.url));
const schemas: string[] = [];
afterAll(async () => {
  const c = new pg.Client({ connectionString: databaseUrl() });
  await c.connect();
  for (const s of schemas) await c.query(`drop schema if exists "${s}" cascade`);
  await c.end();
});

/** Runs dist/main.js until it prints its URL (then stops it with SIGTERM) or exits. */
function run(env: Record<string, string>, onUrl?: (url: string) => Promise<void>) {
  return new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
    const child = spawn(process.execPath, [MAIN], { env: { PATH: process.env.PATH!, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    child.stdout.on('data', async (d) => {
      stdout += d;
      const m = /listening on (\S+)/.exec(stdout);
      if (m && onUrl) {
        const cb = onUrl;
        onUrl = undefined;
        try {
          await cb(m[1].replace('0.0.0.0', '127.0.0.1'));
        } finally {
          child.kill('SIGTERM');
        }
      }
    });
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('producer main', () => {
  it('refuses bad configuration with exit code 2 and one line per bad variable', async () => {
    const r = await run({ PORT: 'eighty', LOG_LEVEL: 'loud', JOBLINE_AUTH: 'maybe', DATABASE_URL: 'mysql://secret@x/y' });
    expect(r.code).toBe(2);
    const lines = r.stderr.split('\n').filter((l) => l.trim().startsWith('- '));
    expect(lines.map((l) => l.trim().split(':')[0].slice(2)).sort()).toEqual(['DATABASE_URL', 'JOBLINE_AUTH', 'LOG_LEVEL', 'PORT']);
    expect(r.stderr).not.toContain('secret'); // connection strings are never echoed
  });

  it('refuses to start with auth on and no tokens, naming JOBLINE_API_TOKENS', async () => {
    const r = await run({ DATABASE_URL: databaseUrl(), JOBLINE_API_TOKENS: '[{"token":"x","queues":[],"scopes":["read"]}]' });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/JOBLINE_API_TOKENS: \[0\.token\]/);
    expect(r.stderr).toMatch(/JOBLINE_API_TOKENS: \[0\.queues\]/);
    const none = await run({ DATABASE_URL: databaseUrl() });
    expect(none.code).toBe(2);
    expect(none.stderr).toMatch(/JOBLINE_API_TOKENS: is not set.*JOBLINE_AUTH=off/);
  });

  it('starts, serves, warns loudly with auth off, and exits 0 on SIGTERM', async () => {
    const schema = uniqueSchema('prodmain');
    schemas.push(schema);
    let health: unknown;
    let created = 0;
    const r = await run(
      { DATABASE_URL: databaseUrl(), JOBLINE_SCHEMA: schema, JOBLINE_AUTH: 'off', PORT: '0', HOST: '127.0.0.1' },
      async (url) => {
        health = await (await fetch(`${url}/readyz`)).json();
        created = (await fetch(`${url}/v1/jobs`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"name":"x"}' }))
          .status;
      },
    );
    expect(r.code).toBe(0);
    expect(health).toEqual({ status: 'ready', checks: { database: true, migrationsCurrent: true } });
    expect(created).toBe(201);
    expect(r.stderr).toMatch(/AUTHENTICATION IS OFF/);
  });
});
