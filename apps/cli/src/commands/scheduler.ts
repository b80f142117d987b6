import { connect, intOption, type Command } from '../context.js';
import { UsageError } from '../errors.js';
import { duration, table, writeJson } from '../output.js';

export const scheduler: Command = {
  name: 'scheduler',
  summary: "the scheduler leaders' statistics (`scheduler stats`)",
  usage: 'scheduler stats [--passes] [--limit N] [--holder ID] [--json]',
  help: `Shows what the scheduler did, newest first:

  scheduler stats           one row per leader per period (scheduler_stats): passes, runs
                            materialised and started, late/missed/skipped runs, violations,
                            actions fired, start lag, longest pass
  scheduler stats --passes  one row per pass (orchestrator_stats): its runtime, schedules,
                            constraints checked, actions taken, runs materialised, violations,
                            failed steps; passes with no schedules are not recorded

  --limit N    rows to show (default 20, at most 1000)
  --holder ID  one scheduler's passes only (with --passes)

Environment: DATABASE_URL (required), JOBLINE_SCHEMA (default "jobline").`,
  options: { passes: { type: 'boolean' }, limit: { type: 'string' }, holder: { type: 'string' } },
  async run({ values, positionals, json }) {
    if (positionals[0] !== 'stats')
      throw new UsageError(`unknown subcommand ${JSON.stringify(positionals[0] ?? '')}: use \`scheduler stats\``);
    const limit = intOption(values.limit, 'limit', 1, 1000) ?? 20;
    const jl = await connect();
    try {
      if (values.passes) {
        const passes = await jl.orchestratorStats({ limit, holder: typeof values.holder === 'string' ? values.holder : undefined });
        if (json) writeJson(passes);
        else
          process.stdout.write(
            table(passes, [
              { header: 'STARTED', get: (p) => p.startedAt.toISOString() },
              { header: 'RUNTIME', get: (p) => duration(p.runtimeMs), right: true },
              { header: 'SCHEDULES', get: (p) => p.schedules, right: true },
              { header: 'CONSTRAINTS', get: (p) => p.constraintsChecked, right: true },
              { header: 'ACTIONS', get: (p) => p.actionsTaken, right: true },
              { header: 'RUNS', get: (p) => p.runsMaterialised, right: true },
              { header: 'VIOLATIONS', get: (p) => p.violations, right: true },
              { header: 'FAILED STEPS', get: (p) => p.failedSteps.join(',') || undefined },
              { header: 'HOLDER', get: (p) => p.holder, max: 40 },
            ]),
          );
        return 0;
      }
      const rows = await jl.schedulerStats(limit);
      if (json) writeJson(rows);
      else
        process.stdout.write(
          table(rows, [
            { header: 'PERIOD END', get: (r) => r.periodEnd.toISOString() },
            { header: 'PASSES', get: (r) => r.iterations, right: true },
            { header: 'MATERIALISED', get: (r) => r.runsMaterialised, right: true },
            { header: 'STARTED', get: (r) => r.runsStarted, right: true },
            { header: 'LATE', get: (r) => r.lateRuns, right: true },
            { header: 'MISSED', get: (r) => r.missedRuns, right: true },
            { header: 'SKIPPED', get: (r) => r.skippedRuns, right: true },
            { header: 'VIOLATIONS', get: (r) => r.violations, right: true },
            { header: 'ACTIONS', get: (r) => r.actionsFired, right: true },
            { header: 'AVG LAG', get: (r) => duration(r.avgLagMs), right: true },
            { header: 'MAX PASS', get: (r) => duration(r.maxTickMs), right: true },
            { header: 'HOLDER', get: (r) => r.holder, max: 40 },
          ]),
        );
      return 0;
    } finally {
      await jl.close();
    }
  },
};
