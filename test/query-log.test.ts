import pino from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import { MetricsRegistry, deriveStatementName } from '@jobline/core/observability';
import { openTestDb, waitFor, type TestDb } from './helpers/db.js';
import { internals } from '@jobline/core/internal';

/** A pino logger whose lines land in an array (parsed). */
function capture(level: string) {
  const lines: Record<string, any>[] = [];
  const logger = pino({ level }, { write: (s: string) => void lines.push(JSON.parse(s)) });
  return { lines, logger };
}

const dbs: TestDb[] = [];
afterAll(() => Promise.all(dbs.map((d) => d.close())));

describe('query logging', () => {
  it('at debug logs every statement with name, duration and rows — never bind values — and times them by name', async () => {
    const { lines, logger } = capture('debug');
    const db = await openTestDb({ logger });
    dbs.push(db);
    const secret = 'tenant-secret-4711';
    const job = await db.jl.enqueue({ queue: 'ql', name: 'echo', input: { secret } });
    const w = db.jl.worker({
      queues: ['ql'],
      handlers: { echo: async (i: { secret: string }) => ({ again: i.secret }) },
      pollIntervalMs: 50,
      scheduler: false,
    });
    await w.start();
    await waitFor(async () => (await db.jl.getJob(job.id)).state === 'completed', 20_000, 'the job to complete');
    await w.stop();

    const statements = lines.filter((l) => l.msg === 'database statement');
    const names = new Set(statements.map((l) => l.statement));
    for (const n of ['jobline_insert', 'jobline_claim_single', 'jobline_complete', 'begin', 'commit']) expect(names, n).toContain(n);
    for (const l of statements) {
      expect(typeof l.ms).toBe('number');
      expect(Number.isInteger(l.rows)).toBe(true);
      expect(l.level).toBe(20);
    }
    expect(statements.find((l) => l.statement === 'jobline_insert')!.rows).toBe(1);
    // Neither the input nor the output appears in any log line.
    expect(lines.map((l) => JSON.stringify(l)).filter((s) => s.includes(secret))).toEqual([]);

    const r = new MetricsRegistry();
    r.register(db.jl.statementDurations);
    const text = r.render();
    expect(text).toMatch(/jobline_db_statement_duration_seconds_count\{statement="jobline_complete"\} [1-9]/);
    expect(text).toMatch(/jobline_db_statement_duration_seconds_bucket\{statement="jobline_insert",le="\+Inf"\} 1\n/);
    expect(text).not.toContain(db.schema);
  });

  it('logs statements slower than slowQueryMs at warn when the level is warn, and nothing else', async () => {
    const { lines, logger } = capture('warn');
    const db = await openTestDb({ logger, slowQueryMs: 40 });
    dbs.push(db);
    await internals(db.jl).pool.query('select pg_sleep(0.06)');
    await db.jl.enqueue({ queue: 'slow', name: 'x' });
    const slow = lines.filter((l) => l.msg === 'slow database statement');
    expect(slow.map((l) => l.statement)).toContain('select pg_sleep');
    const s = slow.find((l) => l.statement === 'select pg_sleep')!;
    expect(s.level).toBe(40);
    expect(s.ms).toBeGreaterThanOrEqual(40);
    expect(s.slowQueryMs).toBe(40);
    expect(lines.filter((l) => l.msg === 'database statement')).toEqual([]);
  });

  it('derives names from the SQL text without values', () => {
    expect(deriveStatementName('insert into "s1".jobs (a) values ($1)')).toBe('insert jobs');
    expect(deriveStatementName('  update s1.schedule_runs set x = 1')).toBe('update schedule_runs');
    expect(deriveStatementName('delete from "my schema".events where id = any($1)')).toBe('delete events');
    expect(deriveStatementName('select count(*) from s.jobs where queue = $1')).toBe('select jobs');
    expect(deriveStatementName('select pg_advisory_lock(hashtext($1))')).toBe('select pg_advisory_lock');
    expect(deriveStatementName('/* x */ with next as (select 1) update t set a = 1')).toBe('with next');
    expect(deriveStatementName('BEGIN')).toBe('begin');
  });
});
