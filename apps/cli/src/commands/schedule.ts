import { readFile } from 'node:fs/promises';
import type { Jobline, Schedule, ScheduleSpec } from '@jobline/core';
import type { ScheduleRun } from '@jobline/core/schedule';
import { connect, intOption, type Command, type Values } from '../context.js';
import { UsageError } from '../errors.js';
import { ago, table, writeJson } from '../output.js';

const SUBCOMMANDS = ['add', 'list', 'pause', 'resume', 'runs', 'trigger'];

/** A schedule argument: a numeric id or a name. */
const ref = (s: string | undefined): number | string => {
  if (!s) throw new UsageError('give the schedule name or id');
  return /^[1-9][0-9]{0,15}$/.test(s) ? Number(s) : s;
};

async function specFrom(arg: string, values: Values): Promise<ScheduleSpec> {
  if (arg.endsWith('.json') || arg === '-') {
    try {
      return JSON.parse(arg === '-' ? await readStdin() : await readFile(arg, 'utf8'));
    } catch (err) {
      throw new UsageError(`cannot read ${arg} as JSON: ${(err as Error).message}`);
    }
  }
  if (!values.cron) throw new UsageError('give --cron "<expression>" (or a schedule file: schedule add nightly.json)');
  if (!values.job) throw new UsageError('give --job <job name> (the handler the runs call)');
  let input: unknown;
  if (values.input !== undefined) {
    try {
      input = JSON.parse(String(values.input));
    } catch (err) {
      throw new UsageError(`--input is not JSON: ${(err as Error).message}`);
    }
  }
  const constraint: Record<string, unknown> = {};
  const max = intOption(values['max-concurrent'], 'max-concurrent', 1, 100_000);
  if (max !== undefined) constraint.maxConcurrentRuns = max;
  if (values['catch-up']) constraint.catchUp = true;
  return {
    name: arg,
    cron: String(values.cron),
    timezone: values.tz === undefined ? undefined : String(values.tz),
    job: { name: String(values.job), queue: values.queue === undefined ? undefined : String(values.queue), input },
    constraint: Object.keys(constraint).length ? constraint : undefined,
  };
}

async function readStdin(): Promise<string> {
  let s = '';
  for await (const chunk of process.stdin) s += chunk;
  return s;
}

function schedules(list: Schedule[]): string {
  return table(list, [
    { header: 'ID', get: (s) => s.id, right: true },
    { header: 'NAME', get: (s) => s.name, max: 40 },
    { header: 'CRON', get: (s) => s.cron },
    { header: 'ZONE', get: (s) => s.timezone },
    { header: 'RUNS', get: (s) => (s.job ? `job ${s.job.queue ?? ''}/${s.job.name ?? s.job.definition}` : `dag ${s.dag?.name}`), max: 40 },
    { header: 'STATE', get: (s) => (s.paused ? 'paused' : 'active') },
    { header: 'NEXT RUN', get: (s) => s.nextRunAt?.toISOString() },
    { header: 'CONSTRAINT', get: (s) => s.constraint?.name, max: 30 },
  ]);
}

function runs(list: ScheduleRun[]): string {
  return table(list, [
    { header: 'RUN', get: (r) => r.id, right: true },
    { header: 'SCHEDULED AT', get: (r) => r.scheduledAt.toISOString() },
    { header: 'STATUS', get: (r) => r.status },
    { header: 'TRIGGER', get: (r) => r.trigger },
    { header: 'ATTEMPT', get: (r) => r.attempt, right: true },
    { header: 'WORK', get: (r) => (r.jobId !== undefined ? `job:${r.jobId}` : r.dagRunId !== undefined ? `dag:${r.dagRunId}` : undefined) },
    { header: 'STARTED', get: (r) => (r.startedAt ? ago(r.startedAt) : undefined) },
    { header: 'NOTE', get: (r) => note(r), max: 60 },
  ]);
}

function note(r: ScheduleRun): string | undefined {
  const d = r.details as Record<string, any>;
  if (d.skipped) return `skipped: ${d.skipped.reason}`;
  if (d.delayed) return `delayed: ${d.delayed.inFlight} in flight`;
  if (d.timedOut) return `timed out after ${d.timedOut.maxAllowedRunTimeMs} ms`;
  if (d.killedBy) return `killed by ${d.killedBy}`;
  if (d.error) return String(d.error);
  return undefined;
}

async function withJl<T>(fn: (jl: Jobline) => Promise<T>): Promise<T> {
  const jl = await connect();
  try {
    return await fn(jl);
  } finally {
    await jl.close();
  }
}

export const schedule: Command = {
  name: 'schedule',
  summary: 'cron schedules: add, list, pause, resume, runs, trigger',
  usage:
    'schedule add <name> --cron EXPR --job NAME [--queue Q] [--input JSON] [--tz ZONE] [--max-concurrent N] [--catch-up] | schedule add <file.json> | ' +
    'schedule list | schedule pause|resume|trigger <name|id> | schedule runs <name|id> [--status S] [--limit N]   [--json]',
  help: `Recurring jobs and DAGs on cron schedules (5 fields, 6 with seconds first, or @hourly-style
aliases; IANA time zones, DST handled). Workers run the scheduler; see
packages/core/src/schedule/README.md for constraints, actions and catch-up.

  jobline schedule add nightly --cron "30 2 * * *" --tz Europe/Berlin --job export --queue exports
  jobline schedule add nightly.json      # { name, cron, timezone?, job | dag, constraint?, actions? }
  jobline schedule list
  jobline schedule pause nightly         # runs not started yet are removed; resume picks up from now
  jobline schedule runs nightly --status failed --limit 20
  jobline schedule trigger nightly       # a run now, outside the cron`,
  options: {
    cron: { type: 'string' },
    job: { type: 'string' },
    queue: { type: 'string' },
    input: { type: 'string' },
    tz: { type: 'string' },
    'max-concurrent': { type: 'string' },
    'catch-up': { type: 'boolean' },
    status: { type: 'string' },
    limit: { type: 'string' },
  },
  async run({ positionals, values, json }) {
    const [sub, arg, ...extra] = positionals;
    if (extra.length) throw new UsageError(`unexpected argument ${JSON.stringify(extra[0])}`);
    if (!SUBCOMMANDS.includes(sub ?? '')) {
      throw new UsageError(sub ? `unknown schedule subcommand ${JSON.stringify(sub)}` : `use: schedule ${SUBCOMMANDS.join('|')}`);
    }
    switch (sub) {
      case 'add': {
        if (!arg) throw new UsageError('give the schedule name (with --cron and --job) or a schedule file');
        const spec = await specFrom(arg, values);
        const sc = await withJl((jl) => jl.schedules.add(spec));
        if (json) writeJson(sc);
        else
          process.stdout.write(
            `schedule:${sc.id} ${sc.name} (${sc.cron} ${sc.timezone}); next run ${sc.nextRunAt?.toISOString() ?? '-'}\n`,
          );
        return 0;
      }
      case 'list': {
        if (arg) throw new UsageError(`unexpected argument ${JSON.stringify(arg)}`);
        const list = await withJl((jl) => jl.schedules.list());
        if (json) writeJson(list);
        else process.stdout.write(schedules(list));
        return 0;
      }
      case 'pause':
      case 'resume': {
        const sc = await withJl((jl) => jl.schedules[sub](ref(arg)));
        if (json) writeJson(sc);
        else process.stdout.write(`${sc.name} ${sc.paused ? 'paused' : `resumed; next run ${sc.nextRunAt?.toISOString() ?? '-'}`}\n`);
        return 0;
      }
      case 'trigger': {
        const run = await withJl((jl) => jl.schedules.trigger(ref(arg)));
        if (json) writeJson(run);
        else process.stdout.write(`run ${run.id} started (${run.jobId !== undefined ? `job:${run.jobId}` : `dag:${run.dagRunId}`})\n`);
        return 0;
      }
      default: {
        const limit = intOption(values.limit, 'limit', 1, 1000) ?? 20;
        const list = await withJl((jl) => jl.schedules.runs(ref(arg), { status: values.status as never, limit }));
        if (json) writeJson(list);
        else process.stdout.write(runs(list));
        return 0;
      }
    }
  },
};
