/**
 * orchestrator_stats: one row per scheduler pass (runtime, constraints checked, actions taken),
 * through the library and the CLI. Passes run by tick() with an injected clock.
 */
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '@jobline/testing';
import { databaseUrl } from './helpers/db.js';

const BIN = fileURLToPath(new URL('../apps/cli/bin/jobline.js', import.meta.url));
const HOUR = 3600_000;
let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase({ databaseUrl: databaseUrl() });
});
afterAll(() => db?.close());
beforeEach(() => db.reset());

/** Half past the current hour: hourly occurrences are never within seconds of it. */
const halfPast = () => {
  const d = new Date();
  d.setUTCMinutes(30, 0, 0);
  return d;
};

describe('orchestrator stats', () => {
  it('records each pass with its runtime, constraints checked and actions taken', async () => {
    const now = halfPast();
    await db.seed({
      actions: [{ name: 'report', type: 'kick_off_job', config: { job: { queue: 'reports', name: 'build-report' } } }],
      schedules: [
        {
          name: 'hourly',
          cron: '0 * * * *',
          job: { queue: 'hourly', name: 'work' },
          constraint: { maxConcurrentRuns: 1 },
          actions: [{ action: 'report', trigger: 'on_success' }],
        },
      ],
    });
    await db.sql(`update ${db.s}.schedules set materialised_until = $1`, [new Date(now.getTime() - HOUR)]);
    const sch = db.jl.scheduler({ id: 'stats-test', now: () => now, aheadMs: 0 });

    await sch.tick(); // materialises the run and checks its start constraint
    const [run] = await db.sql(`select job_id from ${db.s}.schedule_runs`);
    await db.sql(`update ${db.s}.jobs set state = 'completed', started_at = now(), completed_at = now() where id = $1`, [run.job_id]);
    await sch.tick(); // sees the run succeed and fires its on_success action

    const passes = await db.jl.orchestratorStats();
    expect(passes).toHaveLength(2);
    const [second, first] = passes;
    expect(first).toMatchObject({
      holder: 'stats-test',
      schedules: 1,
      constraintsChecked: 1,
      actionsTaken: 0,
      runsMaterialised: 1,
      violations: 0,
      failedSteps: [],
    });
    expect(second).toMatchObject({ holder: 'stats-test', schedules: 1, constraintsChecked: 0, actionsTaken: 1, runsMaterialised: 0 });
    expect(first.startedAt).toEqual(now);
    for (const p of passes) expect(p.runtimeMs).toBeGreaterThan(0);
    await db.expectEnqueued({ queue: 'reports', name: 'build-report' });
    // The period counters agree with the passes.
    const period = await sch.flushStats(now);
    expect(period).toMatchObject({ iterations: 2, runsMaterialised: 1, actionsFired: 1 });

    const env = { PATH: process.env.PATH, DATABASE_URL: db.url, JOBLINE_SCHEMA: db.schema, LOG_LEVEL: 'warn' };
    const { stdout } = await promisify(execFile)(process.execPath, [BIN, 'scheduler', 'stats', '--passes', '--json'], { env });
    expect(JSON.parse(stdout).map((p: { actionsTaken: number }) => p.actionsTaken)).toEqual([1, 0]);
    const table = (await promisify(execFile)(process.execPath, [BIN, 'scheduler', 'stats', '--passes'], { env })).stdout;
    expect(table.split('\n')[0]).toMatch(/^STARTED\s+RUNTIME\s+SCHEDULES\s+CONSTRAINTS\s+ACTIONS/);
    expect(table).toContain('stats-test');
  });

  it('records nothing for passes without schedules, and prunes old passes with the period flush', async () => {
    const sch = db.jl.scheduler({ id: 'idle', passStatsRetentionMs: HOUR });
    await sch.tick();
    expect(await db.jl.orchestratorStats()).toEqual([]);
    await db.sql(
      `insert into ${db.s}.orchestrator_stats (holder, started_at, runtime_ms) values ('old', now() - interval '2 hours', 1), ('recent', now(), 1)`,
    );
    await sch.flushStats();
    expect((await db.jl.orchestratorStats()).map((p) => p.holder)).toEqual(['recent']);
  });
});
