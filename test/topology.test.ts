/**
 * Issue 13: the connection settings are in force where they should be — server
 * statement_timeout on direct connections, client query_timeout and keepalive everywhere, no
 * startup parameters through PgBouncer — and a multi-host URL is refused with what to do instead.
 * (Their effect under faults: test/faults/network.test.ts.)
 */
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Jobline, ValidationError } from '@jobline/core';
import { databaseUrl, quietLogger, uniqueSchema } from './helpers/db.js';
import { startPgBouncer, type PgBouncer } from './helpers/pgbouncer.js';
import { internals } from '@jobline/core/internal';

const direct = process.env.JOBLINE_DIRECT_URL || databaseUrl();
let bouncer: PgBouncer;
const opened: Jobline[] = [];
beforeAll(async () => {
  bouncer = await startPgBouncer(direct, { poolSize: 4 });
});
afterAll(async () => {
  await Promise.all(opened.map((j) => j.close()));
  const admin = new pg.Client({ connectionString: direct });
  await admin.connect();
  for (const j of opened) await admin.query(`drop schema if exists "${j.schema}" cascade`);
  await admin.end();
  await bouncer?.stop();
});

const connect = async (url: string, extra: Parameters<typeof Jobline.connect>[0] = {}) => {
  const jl = await Jobline.connect({
    databaseUrl: url,
    schema: uniqueSchema('topo'),
    natsUrl: '',
    directUrl: '',
    logger: quietLogger(),
    ...extra,
  });
  opened.push(jl);
  return jl;
};
const poolOptions = (jl: Jobline) => (internals(jl).pool as unknown as { options: Record<string, unknown> }).options;

describe('connection settings', () => {
  it('direct: server statement_timeout from statementTimeoutMs, client query_timeout 5 s later, keepalive on', async () => {
    const jl = await connect(direct, { statementTimeoutMs: 4000, connectTimeoutMs: 1500 });
    expect(internals(jl).topology?.pooler).toBe('none');
    const { rows } = await internals(jl).pool.query('show statement_timeout');
    expect(rows[0].statement_timeout).toBe('4s');
    expect(poolOptions(jl)).toMatchObject({
      query_timeout: 9000,
      connectionTimeoutMillis: 1500,
      keepAlive: true,
      keepAliveInitialDelayMillis: 10_000,
    });
    // A statement past the server timeout is cancelled by the server, not left running.
    await expect(internals(jl).pool.query('select pg_sleep(6)')).rejects.toThrow(/statement timeout/);
  });

  it('through PgBouncer: no startup parameters (they would be refused), the client query_timeout still ends a stuck statement', async () => {
    const jl = await connect(bouncer.url(), { statementTimeoutMs: 1000 });
    expect(internals(jl).topology?.pooler).toBe('transaction');
    expect(poolOptions(jl).statement_timeout).toBeUndefined();
    expect(poolOptions(jl).query_timeout).toBe(6000);
    await expect(internals(jl).pool.query('select pg_sleep(8)')).rejects.toThrow(/Query read timeout/);
    // The pool replaced the abandoned connection and works on.
    expect((await internals(jl).pool.query('select 1 as one')).rows[0].one).toBe(1);
  });

  it('env JOBLINE_STATEMENT_TIMEOUT_MS is read when the option is not given', async () => {
    process.env.JOBLINE_STATEMENT_TIMEOUT_MS = '3000';
    try {
      const jl = await connect(direct);
      expect((await internals(jl).pool.query('show statement_timeout')).rows[0].statement_timeout).toBe('3s');
    } finally {
      delete process.env.JOBLINE_STATEMENT_TIMEOUT_MS;
    }
  });

  it('a multi-host URL is refused, naming the field and what to put in front', async () => {
    const err = await Jobline.connect({ databaseUrl: 'postgres://postgres@10.0.0.1:5432,10.0.0.2:5432/db', logger: quietLogger() }).catch(
      (e) => e,
    );
    expect(err).toBeInstanceOf(ValidationError);
    expect(err.message).toMatch(/databaseUrl.*several hosts/s);
    const kw = await Jobline.connect({
      databaseUrl: direct,
      directUrl: 'host=a,b dbname=x target_session_attrs=read-write',
      logger: quietLogger(),
    }).catch((e) => e);
    expect(kw.message).toMatch(/directUrl/);
  });

  it('a bad pooler value names the field', async () => {
    await expect(Jobline.connect({ databaseUrl: direct, pooler: 'sometimes' as never, logger: quietLogger() })).rejects.toThrow(/pooler/);
  });
});
