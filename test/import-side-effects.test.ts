/**
 * Importing @jobline/core has no global side effects (issue 12): it does not change how other
 * pg clients in the application parse values — its BIGINT-as-number parsing is per pool,
 * through pg's `types` option — and registers nothing on `process`.
 */
import pg from 'pg';
import { describe, expect, inject, it } from 'vitest';

const EVENTS = ['exit', 'beforeExit', 'SIGINT', 'SIGTERM', 'uncaughtException', 'unhandledRejection'] as const;
const listeners = () => Object.fromEntries(EVENTS.map((e) => [e, process.listenerCount(e)]));

describe('importing @jobline/core', () => {
  it('leaves the global INT8 parser and process listeners unchanged; its own pool parses ids as numbers', async () => {
    const before = pg.types.getTypeParser(20);
    const onProcess = listeners();
    await import('@jobline/core');
    // Every subpath too (packages/core/package.json "exports"): none may have side effects either.
    const core = await import('@jobline/core/admin');
    for (const sub of ['observability', 'events', 'inspect', 'schemas', 'definitions', 'schedule', 'executors', 'typed', 'internal'])
      await import(`@jobline/core/${sub}`);
    expect(pg.types.getTypeParser(20)).toBe(before);
    expect(listeners()).toEqual(onProcess);

    const url = inject('databaseUrl');
    const other = new pg.Client({ connectionString: url });
    await other.connect();
    const pool = core.createPool({ connectionString: url, max: 1 });
    try {
      // Someone else's client: bigint stays a string (pg's default).
      expect((await other.query('select 9007199254740993::bigint as v')).rows[0].v).toBe('9007199254740993');
      // Jobline's pool: ids as numbers.
      expect((await pool.query('select 42::bigint as v')).rows[0].v).toBe(42);
    } finally {
      await other.end();
      await pool.end();
    }
    expect(pg.types.getTypeParser(20)).toBe(before);
  });
});
