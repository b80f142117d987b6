/**
 * Importing @jobline/core must not change how other pg clients in the application parse
 * values (issue 12): its BIGINT-as-number parsing is per pool, through pg's `types` option.
 */
import pg from 'pg';
import { describe, expect, inject, it } from 'vitest';

describe('pg type parsing', () => {
  it('importing @jobline/core leaves the global INT8 parser unchanged; its own pool parses ids as numbers', async () => {
    const before = pg.types.getTypeParser(20);
    const core = await import('@jobline/core');
    expect(pg.types.getTypeParser(20)).toBe(before);

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
