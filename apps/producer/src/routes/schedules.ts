/**
 * Schedule endpoints (issue 8): schedules, their runs, constraints, actions, violations and the
 * scheduler's statistics. Creating schedules, constraints and actions is configuration (scope
 * `admin`); triggering a run is `write`; reading is `read`. A schedule is visible to a token
 * only when every queue it enqueues into is.
 */
import type { Jobline, Schedule as ScheduleT } from '@jobline/core';
import { defineRoute, type RouteContext } from '../http/router.js';
import type { ProducerState } from '../state.js';
import { errors } from './common.js';
import {
  Action,
  ActionCreate,
  ActionList,
  Constraint,
  ConstraintCreate,
  ConstraintList,
  RunsQuery,
  Schedule,
  ScheduleCreate,
  ScheduleList,
  ScheduleRefParams,
  ScheduleRun,
  ScheduleRunList,
  SchedulerStatsList,
  StatsQuery,
  ViolationList,
  ViolationsQuery,
} from '../schemas/schedules.js';

type Spec = { job?: { queue?: string; definition?: string }; dag?: { nodes: { queue?: string; definition?: string }[] } };

/** The queues a schedule's runs go to (a definition's default queue when the template names none). */
async function queuesOf(jl: Jobline, spec: Spec): Promise<string[]> {
  const items = spec.job ? [spec.job] : (spec.dag?.nodes ?? []);
  const out = new Set<string>();
  for (const it of items) {
    if (it.queue !== undefined) out.add(it.queue);
    else if (it.definition) out.add((await jl.getDefinition(it.definition).catch(() => undefined))?.defaults.queue ?? 'default');
    else out.add('default');
  }
  return [...out];
}

async function visible(st: ProducerState, ctx: RouteContext, sc: ScheduleT): Promise<boolean> {
  if (ctx.principal.allQueues) return true;
  return (await queuesOf(st.jl, sc as Spec)).every((q) => ctx.principal.canQueue(q));
}

export async function requireVisible(st: ProducerState, ctx: RouteContext, sc: ScheduleT): Promise<void> {
  for (const q of await queuesOf(st.jl, sc as Spec)) ctx.requireQueue(q);
}

export function scheduleRoutes(st: ProducerState) {
  const { jl } = st;
  return [
    defineRoute({
      method: 'POST',
      path: '/v1/schedules',
      operationId: 'createSchedule',
      tag: 'schedules',
      summary: 'Create a cron schedule of a job or DAG template, with an optional constraint and action bindings',
      description:
        'cron: 5 fields, 6 with seconds first, or @hourly-style aliases; timezone: an IANA zone. Every JSON config is validated and ' +
        'each bad field is named (job.priority, constraint.preRunHook.url, actions.0.action). The first run is the first occurrence after now.',
      scope: 'admin',
      body: ScheduleCreate,
      responses: { 201: { description: 'Created', schema: Schedule }, ...errors(400, 401, 403, 409, 413, 415) },
      async handle(ctx, { body }) {
        for (const q of await queuesOf(jl, body as Spec)) ctx.requireQueue(q);
        const sc = await jl.schedules.add(body);
        return { status: 201, body: sc, headers: { location: `/v1/schedules/${sc.id}` } };
      },
    }),
    defineRoute({
      method: 'GET',
      path: '/v1/schedules',
      operationId: 'listSchedules',
      tag: 'schedules',
      summary: 'Every schedule the token may see, with its constraint, actions and next run',
      scope: 'read',
      responses: { 200: { description: 'Schedules by name', schema: ScheduleList }, ...errors(401, 403) },
      async handle(ctx) {
        const all = await jl.schedules.list();
        const shown: ScheduleT[] = [];
        for (const sc of all) if (await visible(st, ctx, sc)) shown.push(sc);
        return { status: 200, body: { schedules: shown } };
      },
    }),
    defineRoute({
      method: 'GET',
      path: '/v1/schedules/:id',
      operationId: 'getSchedule',
      tag: 'schedules',
      summary: 'A schedule by id or name',
      scope: 'read',
      params: ScheduleRefParams,
      responses: { 200: { description: 'The schedule', schema: Schedule }, ...errors(400, 401, 403, 404) },
      async handle(ctx, { params }) {
        const sc = await jl.schedules.get(params.id);
        await requireVisible(st, ctx, sc);
        return { status: 200, body: sc };
      },
    }),
    ...(['pause', 'resume'] as const).map((op) =>
      defineRoute({
        method: 'POST',
        path: `/v1/schedules/:id/${op}`,
        operationId: `${op}Schedule`,
        tag: 'schedules',
        summary:
          op === 'pause'
            ? 'Pause: runs not started yet are removed (their jobs cancelled); running ones finish'
            : 'Resume from the next occurrence (occurrences during the pause are not owed)',
        scope: 'admin',
        params: ScheduleRefParams,
        bodyOptional: true,
        responses: { 200: { description: 'The schedule', schema: Schedule }, ...errors(400, 401, 403, 404) },
        async handle(ctx, { params }) {
          await requireVisible(st, ctx, await jl.schedules.get(params.id));
          return { status: 200, body: await jl.schedules[op](params.id) };
        },
      }),
    ),
    defineRoute({
      method: 'POST',
      path: '/v1/schedules/:id/trigger',
      operationId: 'triggerSchedule',
      tag: 'schedules',
      summary: 'Start a run now, outside the cron and its start constraints (time limits and actions still apply)',
      scope: 'write',
      params: ScheduleRefParams,
      bodyOptional: true,
      responses: { 201: { description: 'The run', schema: ScheduleRun }, ...errors(400, 401, 403, 404, 409) },
      async handle(ctx, { params }) {
        await requireVisible(st, ctx, await jl.schedules.get(params.id));
        const run = await jl.schedules.trigger(params.id);
        return { status: 201, body: run };
      },
    }),
    defineRoute({
      method: 'GET',
      path: '/v1/schedules/:id/runs',
      operationId: 'listScheduleRuns',
      tag: 'schedules',
      summary: "A schedule's runs, newest first",
      scope: 'read',
      params: ScheduleRefParams,
      query: RunsQuery,
      responses: { 200: { description: 'Runs', schema: ScheduleRunList }, ...errors(400, 401, 403, 404) },
      async handle(ctx, { params, query }) {
        await requireVisible(st, ctx, await jl.schedules.get(params.id));
        return { status: 200, body: { runs: await jl.schedules.runs(params.id, query) } };
      },
    }),
    defineRoute({
      method: 'POST',
      path: '/v1/constraints',
      operationId: 'createConstraint',
      tag: 'schedules',
      summary: 'Create a run constraint that schedules can name',
      scope: 'admin',
      body: ConstraintCreate,
      responses: { 201: { description: 'Created', schema: Constraint }, ...errors(400, 401, 403, 409, 413, 415) },
      async handle(_ctx, { body }) {
        return { status: 201, body: await jl.constraints.add(body) };
      },
    }),
    defineRoute({
      method: 'GET',
      path: '/v1/constraints',
      operationId: 'listConstraints',
      tag: 'schedules',
      summary: 'Every constraint (secrets masked)',
      scope: 'read',
      responses: { 200: { description: 'Constraints', schema: ConstraintList }, ...errors(401, 403) },
      async handle() {
        return { status: 200, body: { constraints: await jl.constraints.list() } };
      },
    }),
    defineRoute({
      method: 'POST',
      path: '/v1/actions',
      operationId: 'createAction',
      tag: 'schedules',
      summary: 'Create an action (retry, kick_off_job, webhook, kill_all_instances, kill_latest_instance, skip_next_instance)',
      description: 'config is validated against the type; errors are named config.<field>.',
      scope: 'admin',
      body: ActionCreate,
      responses: { 201: { description: 'Created', schema: Action }, ...errors(400, 401, 403, 409, 413, 415) },
      async handle(ctx, { body }) {
        const job = (body.config as { job?: { queue?: string } }).job;
        if (body.type === 'kick_off_job' && job) ctx.requireQueue(job.queue ?? 'default');
        return { status: 201, body: await jl.actions.add(body) };
      },
    }),
    defineRoute({
      method: 'GET',
      path: '/v1/actions',
      operationId: 'listActions',
      tag: 'schedules',
      summary: 'Every action (secrets masked)',
      scope: 'read',
      responses: { 200: { description: 'Actions', schema: ActionList }, ...errors(401, 403) },
      async handle() {
        return { status: 200, body: { actions: await jl.actions.list() } };
      },
    }),
    defineRoute({
      method: 'GET',
      path: '/v1/violations',
      operationId: 'listViolations',
      tag: 'schedules',
      summary: 'Constraint violations, newest first, with what was done about them',
      scope: 'read',
      query: ViolationsQuery,
      responses: { 200: { description: 'Violations', schema: ViolationList }, ...errors(400, 401, 403, 404) },
      async handle(ctx, { query }) {
        let violations = await jl.violations(query);
        if (!ctx.principal.allQueues) {
          const ok = new Set<number>();
          for (const sc of await jl.schedules.list()) if (await visible(st, ctx, sc)) ok.add(sc.id);
          violations = violations.filter((v) => ok.has(v.scheduleId));
        }
        return { status: 200, body: { violations } };
      },
    }),
    defineRoute({
      method: 'GET',
      path: '/v1/scheduler/stats',
      operationId: 'schedulerStats',
      tag: 'schedules',
      summary: "The scheduler leaders' statistics, one row per period, newest first",
      scope: 'read',
      query: StatsQuery,
      responses: { 200: { description: 'Statistics', schema: SchedulerStatsList }, ...errors(400, 401, 403) },
      async handle(_ctx, { query }) {
        return { status: 200, body: { stats: await jl.schedulerStats(query.limit ?? 50) } };
      },
    }),
  ];
}
