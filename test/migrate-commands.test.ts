/**
 * `jobline migrate`, `migrate status`, `migrate --dry-run` and the compatibility rule between
 * code and schema (docs/migrations.md): a schema newer than the code is refused unless every
 * migration the code does not know is additive; then an older worker keeps working.
 */
import { execFile } from 'node:child_process';
import { copyFile, mkdtemp, readdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { Jobline, MigrationError } from '@jobline/core';
import { MIGRATIONS_DIR, migrate, migrationsCurrent, readMigrations } from '@jobline/core/admin';
import { databaseUrl, quietLogger, uniqueSchema, waitFor } from './helpers/db.js';
import { internals } from '@jobline/core/internal';

const BIN = fileURLToPath(new URL('../apps/cli/bin/jobline.js', import.meta.url));
const HANDLERS = fileURLToPath(new URL('./fixtures/app-handlers.mjs', import.meta.url));
const admin = new pg.Pool({ connectionString: databaseUrl(), max: 2 });
const schemas: string[] = [];
afterAll(async () => {
  for (const s of schemas) await admin.query(`drop schema if exists "${s}" cascade`);
  await admin.end();
});
const fresh = () => {
  const s = uniqueSchema('migcmd');
  schemas.push(s);
  return s;
};

async function jobline(schema: string, ...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const env = { PATH: process.env.PATH, DATABASE_URL: databaseUrl(), JOBLINE_SCHEMA: schema, LOG_LEVEL: 'warn' };
  try {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, [BIN, ...args], { env });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

const files = await readMigrations();
const latest = files.at(-1)!;

describe('jobline migrate status / --dry-run', () => {
  it('reports pending migrations with exit 1, and current with exit 0 after migrate', async () => {
    const schema = fresh();
    const before = await jobline(schema, 'migrate', 'status', '--json');
    expect(before.code).toBe(1);
    const st = JSON.parse(before.stdout);
    expect(st).toMatchObject({ schema, current: false, databaseVersion: 0, codeVersion: latest.version, applied: [] });
    expect(st.pending.map((p: { name: string }) => p.name)).toEqual(files.map((f) => f.name));

    const applied = await jobline(schema, 'migrate');
    expect(applied.code).toBe(0);
    expect(applied.stdout).toContain(`now at version ${latest.version}`);
    const after = await jobline(schema, 'migrate', 'status');
    expect(after.code).toBe(0);
    expect(after.stdout).toMatch(new RegExp(`${latest.name}\\s+applied`));
    expect(after.stdout.trim().split('\n').at(-1)).toBe('current');
  });

  it('--dry-run prints exactly what migrate would do, and changes nothing', async () => {
    const schema = fresh();
    const r = await jobline(schema, 'migrate', '--dry-run');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('create table jobs');
    for (const f of files) expect(r.stdout).toContain(`-- ${f.name} (sha256 ${f.checksum.slice(0, 12)})`);
    expect((await admin.query(`select to_regclass($1) as t`, [`"${schema}".jobs`])).rows[0].t).toBeNull();
    // Applied by hand (as `psql -f` would), the script leaves the schema current.
    await admin.query(r.stdout);
    expect(await migrationsCurrent(admin, schema)).toBe(true);
    expect((await jobline(schema, 'migrate', 'status')).code).toBe(0);
    expect((await jobline(schema, 'migrate', '--dry-run')).stdout).toContain('nothing to run');
  });

  it('shows an applied file whose checksum changed, with exit 1', async () => {
    const schema = fresh();
    await migrate(admin, schema);
    await admin.query(`update "${schema}".migrations set checksum = 'deadbeef0000' || checksum where version = 1`);
    const r = await jobline(schema, 'migrate', 'status');
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/0001_init\s+CHANGED/);
    expect(r.stdout).toContain('0001_init: checksum deadbeef0000');
    const j = JSON.parse((await jobline(schema, 'migrate', 'status', '--json')).stdout);
    expect(j.mismatched.map((m: { name: string }) => m.name)).toEqual(['0001_init']);
  });
});

describe('a schema newer than the code', () => {
  /** A migrations folder with this release's files and one more from a "newer release". */
  async function newerRelease(sql: string, name = '9000_newer_release'): Promise<string> {
    const dir = await mkdtemp(join(tmpdir(), 'jobline-newer-'));
    for (const f of await readdir(MIGRATIONS_DIR)) if (f.endsWith('.sql')) await copyFile(join(MIGRATIONS_DIR, f), join(dir, f));
    await writeFile(join(dir, `${name}.sql`), sql);
    return dir;
  }

  it('is refused at start, naming both versions, when a migration the code does not know is not additive', async () => {
    const schema = fresh();
    await migrate(admin, schema, await newerRelease('alter table jobs rename column traceparent to trace_context;'));
    const err = await Jobline.connect({ databaseUrl: databaseUrl(), schema, logger: quietLogger(), natsUrl: '' }).catch((e) => e);
    expect(err).toBeInstanceOf(MigrationError);
    expect(err.message).toContain(`schema "${schema}" is at version 9000 (9000_newer_release)`);
    expect(err.message).toContain(`its migrations end at version ${latest.version} (${latest.name})`);
    expect(err.message).toContain('upgrade the application');
    // Without migrating at start too.
    await expect(
      Jobline.connect({ databaseUrl: databaseUrl(), schema, logger: quietLogger(), natsUrl: '', migrate: false }),
    ).rejects.toThrow(/version 9000/);
    // The apps (here the worker, through the CLI) refuse to start with the same message.
    const w = await jobline(schema, 'worker', '--queues', 'q', '--handlers', HANDLERS, '--port', 'off');
    expect(w.code).not.toBe(0);
    expect(w.stderr).toContain('is at version 9000 (9000_newer_release)');
    const st = await jobline(schema, 'migrate', 'status');
    expect(st.code).toBe(1);
    expect(st.stdout).toMatch(/9000_newer_release\s+NEWER/);
  });

  it('keeps an older worker working when the newer migration is additive', async () => {
    const schema = fresh();
    const additive = `-- jobline:additive
alter table jobs add column tenant_note text;
create table job_notes (job_id bigint primary key, note text not null);
comment on column jobs.tenant_note is 'test column';
comment on table job_notes is 'test table';
comment on column job_notes.job_id is 'x';
comment on column job_notes.note is 'x';`;
    await migrate(admin, schema, await newerRelease(additive));
    const warnings: string[] = [];
    const logger = quietLogger();
    logger.warn = ((o: unknown, msg?: string) => void warnings.push(typeof o === 'string' ? o : (msg ?? ''))) as typeof logger.warn;
    const jl = await Jobline.connect({ databaseUrl: databaseUrl(), schema, logger, natsUrl: '' });
    try {
      expect(warnings.join('\n')).toContain('9000_newer_release');
      expect(await migrationsCurrent(internals(jl).pool, schema)).toBe(true);
      // A job written by the newer release (using its column) and one by this code both run.
      const { rows } = await internals(jl).pool.query(
        `insert into "${schema}".jobs (queue, name, state, input, tenant_note) values ('compat', 'greet', 'available', '{"who":"new"}', 'from the newer release') returning id`,
      );
      const old = await jl.enqueue({ queue: 'compat', name: 'greet', input: { who: 'old' } });
      const w = jl.worker({
        queues: ['compat'],
        handlers: { greet: async (i: { who: string }) => ({ hello: i.who }) },
        pollIntervalMs: 50,
        scheduler: false,
      });
      await w.start();
      for (const id of [rows[0].id, old.id]) await waitFor(async () => (await jl.getJob(id)).state === 'completed', 20_000, `job ${id}`);
      await w.stop();
      expect((await jl.getJob(rows[0].id)).output).toEqual({ hello: 'new' });
      expect((await jl.executions(old.id)).map((e) => e.state)).toEqual(['completed']);
      const note = await internals(jl).pool.query(`select tenant_note from "${schema}".jobs where id = $1`, [rows[0].id]);
      expect(note.rows[0].tenant_note).toBe('from the newer release');
    } finally {
      await jl.close();
    }
  });
});
