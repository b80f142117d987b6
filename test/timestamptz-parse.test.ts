/**
 * Jobline's timestamptz parser (db/timestamptz.ts) against pg's own (postgres-date), on values
 * the real server prints under time zones with whole-hour, half-hour, 45-minute and (historic,
 * local mean time) second offsets, plus the values it hands to postgres-date: infinity, BC,
 * years before 100 and after 9999.
 */
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseTimestamptz } from '../packages/core/dist/db/timestamptz.js';
import { databaseUrl } from './helpers/db.js';

const postgresDate = pg.types.getTypeParser(pg.types.builtins.TIMESTAMPTZ, 'text') as (v: string) => unknown;
let c: pg.Client;

beforeAll(async () => {
  c = new pg.Client({ connectionString: databaseUrl() });
  await c.connect();
});
afterAll(() => c.end());

// Text as the server sends it, not parsed by pg.
const printed = async (zone: string, values: string[]): Promise<string[]> => {
  await c.query(`set time zone '${zone}'`);
  const { rows } = await c.query({
    text: 'select v::timestamptz::text as t from unnest($1::text[]) v',
    values: [values],
    rowMode: 'array',
  });
  return rows.map((r) => r[0] as string);
};

describe('parseTimestamptz', () => {
  const instants = [
    '2026-12-01 23:22:14.576123+00',
    '2026-12-01 23:22:14+00',
    '2026-12-01 23:22:14.5+00',
    '2026-12-01 23:22:14.000001+00',
    '2026-06-30 23:59:59.999999+00',
    '2024-02-29 12:00:00.579+00',
    '1970-01-01 00:00:00+00',
    '1969-12-31 23:59:59.999+00',
    '1890-01-01 12:00:00+00',
    '0150-03-01 00:00:00+00',
    '9999-12-31 23:59:59.999999+00',
  ];
  for (const zone of [
    'UTC',
    'Asia/Kolkata',
    'America/St_Johns',
    'Asia/Kathmandu',
    'America/Los_Angeles',
    'Europe/Amsterdam',
    'Pacific/Chatham',
  ]) {
    it(`matches pg's parser on the server's output in ${zone}`, async () => {
      for (const t of await printed(zone, instants)) {
        const ours = parseTimestamptz(t) as Date;
        expect(ours, t).toBeInstanceOf(Date);
        expect(ours.getTime(), t).toBe((postgresDate(t) as Date).getTime());
      }
    });
  }

  it('hands everything else to pg’s parser, with the same result', async () => {
    const odd = [
      ...(await printed('UTC', [
        'infinity',
        '-infinity',
        '0044-03-15 12:00:00+00',
        '0001-01-01 00:00:00+00 BC',
        '12345-01-01 00:00:00+00',
      ])),
      'not a date',
    ];
    for (const t of odd) expect(parseTimestamptz(t), t).toEqual(postgresDate(t));
    expect(parseTimestamptz('infinity')).toBe(Infinity);
    expect(parseTimestamptz('0001-01-01 00:00:00+00 BC')).toEqual(postgresDate('0001-01-01 00:00:00+00 BC'));
  });

  it('agrees with pg’s parser on every fraction of a second to the microsecond digit counts PostgreSQL prints', () => {
    for (let f = 0; f < 1000; f++) {
      for (const frac of [String(f).padStart(3, '0'), `${String(f).padStart(3, '0')}999`, `${String(f).padStart(3, '0')}5`]) {
        const t = `2026-12-01 23:22:14.${frac.replace(/0+$/, '') || '0'}+05:30`;
        expect((parseTimestamptz(t) as Date).getTime(), t).toBe((postgresDate(t) as Date).getTime());
      }
    }
  });
});
