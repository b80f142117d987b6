/**
 * Cron evaluation (croner) and materialisation across DST transitions in two time zones, with
 * an injected clock: Europe/Berlin (last Sunday of March 02:00 → 03:00, last Sunday of October
 * 03:00 → 02:00) and America/New_York (second Sunday of March 02:00 → 03:00, first Sunday of
 * November 02:00 → 01:00).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ValidationError } from '@jobline/core';
import { compileCron, occurrencesBetween, planRuns, validateCron } from '@jobline/core/schedule';
import { openTestDb, type TestDb } from './helpers/db.js';
import { TestClock } from './helpers/schedule.js';

const iso = (ds: Date[]) => ds.map((d) => d.toISOString());
const between = (expr: string, tz: string, from: string, to: string, max = 100) =>
  iso(occurrencesBetween(compileCron(expr, tz), new Date(from), new Date(to), max).times);

describe('cron expressions', () => {
  it('reads 5 fields, 6 with seconds, and @aliases', () => {
    expect(between('*/20 * * * *', 'UTC', '2025-01-01T00:00:00Z', '2025-01-01T01:00:00Z')).toEqual([
      '2025-01-01T00:20:00.000Z',
      '2025-01-01T00:40:00.000Z',
      '2025-01-01T01:00:00.000Z',
    ]);
    expect(between('*/15 * * * * *', 'UTC', '2025-01-01T00:00:00Z', '2025-01-01T00:01:00Z')).toHaveLength(4);
    expect(between('@hourly', 'UTC', '2025-01-01T00:00:00Z', '2025-01-01T03:00:00Z')).toEqual([
      '2025-01-01T01:00:00.000Z',
      '2025-01-01T02:00:00.000Z',
      '2025-01-01T03:00:00.000Z',
    ]);
    expect(between('@daily', 'Asia/Tokyo', '2025-01-01T00:00:00Z', '2025-01-03T00:00:00Z')).toEqual([
      '2025-01-01T15:00:00.000Z',
      '2025-01-02T15:00:00.000Z',
    ]);
    expect(between('@weekly', 'UTC', '2025-01-01T00:00:00Z', '2025-01-15T00:00:00Z')).toEqual([
      '2025-01-05T00:00:00.000Z',
      '2025-01-12T00:00:00.000Z',
    ]);
  });

  it('explains invalid expressions and zones', () => {
    expect(validateCron('61 * * * *', 'UTC')).toMatch(/not a cron expression.*minute/);
    expect(validateCron('* * * * * * *', 'UTC')).toMatch(/not a cron expression/); // no year field
    expect(validateCron('* * *', 'UTC')).toMatch(/not a cron expression/);
    expect(validateCron('0 0 30 2 *', 'UTC')).toMatch(/never fires/);
    expect(validateCron('* * * * *', 'Mars/Olympus_Mons')).toMatch(/not an IANA zone/);
    expect(validateCron('0 9 * * MON-FRI', 'Europe/Berlin')).toBeUndefined();
  });

  it('caps a long range at the latest occurrences and says so', () => {
    const r = occurrencesBetween(compileCron('* * * * * *', 'UTC'), new Date('2025-01-01T00:00:00Z'), new Date('2025-01-02T00:00:00Z'), 10);
    expect(r.truncated).toBe(true);
    // the latest ten up to and including the end of the range
    expect(iso(r.times)).toEqual([...Array.from({ length: 9 }, (_, i) => `2025-01-01T23:59:${51 + i}.000Z`), '2025-01-02T00:00:00.000Z']);
  });
});

describe('DST', () => {
  it('Europe/Berlin spring forward: a fixed time in the gap runs once at 03:00, an interval skips the gap', () => {
    // 2025-03-30 02:00 CET does not exist; clocks jump to 03:00 CEST (01:00Z).
    expect(between('30 2 * * *', 'Europe/Berlin', '2025-03-28T12:00:00Z', '2025-03-31T12:00:00Z')).toEqual([
      '2025-03-29T01:30:00.000Z', // 02:30 CET
      '2025-03-30T01:00:00.000Z', // 03:00 CEST: the jump
      '2025-03-31T00:30:00.000Z', // 02:30 CEST
    ]);
    expect(between('*/30 * * * *', 'Europe/Berlin', '2025-03-30T00:00:00Z', '2025-03-30T02:00:00Z')).toEqual([
      '2025-03-30T00:30:00.000Z', // 01:30 CET
      '2025-03-30T01:00:00.000Z', // 03:00 CEST (02:00 and 02:30 never happen)
      '2025-03-30T01:30:00.000Z',
      '2025-03-30T02:00:00.000Z',
    ]);
  });

  it('Europe/Berlin fall back: a fixed time runs once, an interval runs on both passes of the repeated hour', () => {
    // 2025-10-26 03:00 CEST → 02:00 CET: 02:00-02:59 happens twice (00:00Z-00:59Z and 01:00Z-01:59Z).
    expect(between('30 2 * * *', 'Europe/Berlin', '2025-10-25T12:00:00Z', '2025-10-27T12:00:00Z')).toEqual([
      '2025-10-26T00:30:00.000Z', // first 02:30 (CEST) only
      '2025-10-27T01:30:00.000Z',
    ]);
    expect(between('*/30 * * * *', 'Europe/Berlin', '2025-10-25T23:59:00Z', '2025-10-26T02:00:00Z')).toEqual([
      '2025-10-26T00:00:00.000Z', // 02:00 CEST
      '2025-10-26T00:30:00.000Z', // 02:30 CEST
      '2025-10-26T01:00:00.000Z', // 02:00 CET
      '2025-10-26T01:30:00.000Z', // 02:30 CET
      '2025-10-26T02:00:00.000Z', // 03:00 CET
    ]);
  });

  it('America/New_York spring forward and fall back', () => {
    // 2025-03-09 02:00 EST → 03:00 EDT (07:00Z).
    expect(between('30 2 * * *', 'America/New_York', '2025-03-08T12:00:00Z', '2025-03-10T12:00:00Z')).toEqual([
      '2025-03-09T07:00:00.000Z', // 03:00 EDT: the jump (there is no 02:30 on the 9th); on the 8th it was 07:30Z
      '2025-03-10T06:30:00.000Z',
    ]);
    expect(between('0 * * * *', 'America/New_York', '2025-03-09T06:00:00Z', '2025-03-09T08:00:00Z')).toEqual([
      '2025-03-09T07:00:00.000Z', // 03:00 EDT follows 01:00 EST (06:00Z)
      '2025-03-09T08:00:00.000Z',
    ]);
    // 2025-11-02 02:00 EDT → 01:00 EST: 01:00-01:59 happens twice (05:00Z-05:59Z and 06:00Z-06:59Z).
    expect(between('30 1 * * *', 'America/New_York', '2025-11-01T12:00:00Z', '2025-11-03T12:00:00Z')).toEqual([
      '2025-11-02T05:30:00.000Z', // first 01:30 (EDT) only
      '2025-11-03T06:30:00.000Z',
    ]);
    expect(between('0 * * * *', 'America/New_York', '2025-11-02T04:00:00Z', '2025-11-02T07:00:00Z')).toEqual([
      '2025-11-02T05:00:00.000Z', // 01:00 EDT
      '2025-11-02T06:00:00.000Z', // 01:00 EST
      '2025-11-02T07:00:00.000Z', // 02:00 EST
    ]);
  });
});

describe('materialising across DST with an injected clock', () => {
  let db: TestDb;
  beforeAll(async () => {
    db = await openTestDb();
  });
  afterAll(() => db.close());

  async function runsOf(name: string): Promise<string[]> {
    const rows = await db.sql(
      `select r.scheduled_at, j.run_at from "${db.schema}".schedule_runs r join "${db.schema}".schedules s on s.id = r.schedule_id
         left join "${db.schema}".jobs j on j.id = r.job_id where s.name = $1 order by r.scheduled_at`,
      [name],
    );
    // every run has its job, due exactly at the occurrence
    for (const r of rows) expect(r.run_at?.toISOString()).toBe(r.scheduled_at.toISOString());
    return rows.map((r) => r.scheduled_at.toISOString());
  }

  for (const [tz, from, expected] of [
    ['Europe/Berlin', '2025-03-28T12:00:00Z', ['2025-03-29T01:30:00.000Z', '2025-03-30T01:00:00.000Z', '2025-03-31T00:30:00.000Z']],
    ['Europe/Berlin', '2025-10-25T12:00:00Z', ['2025-10-26T00:30:00.000Z', '2025-10-27T01:30:00.000Z', '2025-10-28T01:30:00.000Z']],
    ['America/New_York', '2025-03-08T12:00:00Z', ['2025-03-09T07:00:00.000Z', '2025-03-10T06:30:00.000Z', '2025-03-11T06:30:00.000Z']],
    ['America/New_York', '2025-11-01T12:00:00Z', ['2025-11-02T07:30:00.000Z', '2025-11-03T07:30:00.000Z', '2025-11-04T07:30:00.000Z']],
  ] as const) {
    it(`${tz} from ${from}`, async () => {
      const name = `dst-${tz.replace('/', '-')}-${from.slice(0, 10)}`;
      await db.jl.schedules.add({ name, cron: '30 2 * * *', timezone: tz, job: { queue: 'dst', name: 'tick' } });
      // The schedule was "created" at the clock's start: backdate its cursor there.
      await db.sql(`update "${db.schema}".schedules set materialised_until = $2 where name = $1`, [name, from]);
      const clock = new TestClock(from);
      const sch = db.jl.scheduler({ now: clock.now, aheadMs: 3 * 24 * 3600_000 - 1 });
      await sch.tick();
      expect(await runsOf(name)).toEqual(expected);
      // Walking the clock forward hour by hour adds nothing twice and nothing new before the horizon moves.
      for (let i = 0; i < 24; i++) {
        clock.advance(3600_000);
        await sch.tick();
      }
      const after = await runsOf(name);
      expect(after.slice(0, 3)).toEqual(expected);
      expect(after).toHaveLength(4);
      await db.jl.schedules.remove(name);
    });
  }

  it('plans catch-up over a DST gap by real instants, not wall-clock arithmetic', () => {
    const sc = { id: 1, name: 'x', cron: compileCron('0 * * * *', 'Europe/Berlin'), paused: false, bindings: [], gated: false };
    const plan = planRuns(sc, new Date('2025-03-29T22:30:00Z'), new Date('2025-03-30T03:10:00Z'), {
      aheadMs: 0,
      maxRunsPerPass: 100,
      missedAfterMs: 5000,
    });
    // 00:00, 01:00, 03:00, 04:00, 05:00 local (the 02:00 hour does not exist): 4 missed, the latest starts.
    expect(plan.runs.map((r) => [r.scheduledAt.toISOString(), r.status, r.trigger])).toEqual([
      ['2025-03-29T23:00:00.000Z', 'missed', 'cron'],
      ['2025-03-30T00:00:00.000Z', 'missed', 'cron'],
      ['2025-03-30T01:00:00.000Z', 'missed', 'cron'],
      ['2025-03-30T02:00:00.000Z', 'missed', 'cron'],
      ['2025-03-30T03:00:00.000Z', 'scheduled', 'catch_up'],
    ]);
  });

  it('refuses an invalid expression or zone, naming the field', async () => {
    const e1 = await db.jl.schedules.add({ name: 'bad1', cron: '99 * * * *', job: { name: 'x' } }).catch((e) => e);
    expect(e1).toBeInstanceOf(ValidationError);
    expect(e1.issues[0].path).toBe('cron');
    const e2 = await db.jl.schedules
      .add({ name: 'bad2', cron: '0 * * * *', timezone: 'Europe/Atlantis', job: { name: 'x' } })
      .catch((e) => e);
    expect(e2.issues.map((i: { path: string }) => i.path)).toContain('timezone');
  });
});
