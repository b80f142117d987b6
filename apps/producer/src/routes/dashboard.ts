/**
 * Read endpoints of the dashboard (`/ui/`), under /v1/dashboard: who the caller is, the
 * overview (queues with depth, the hour's throughput, workers, outbox) and paginated searches of
 * jobs and DAG runs. Everything goes through the library's bounded reads (`jl.inspect`), and the
 * overview is cached for OVERVIEW_TTL_MS per queue scope, so ten open dashboards polling every
 * two seconds cost the database what one does.
 */
import type { QueuePage, Throughput, WorkerOverview } from '@jobline/core/inspect';
import { DEPTH_COUNT_CAP, STATS_SAMPLE_CAP } from '@jobline/core/inspect';
import { HttpError } from '../http/errors.js';
import { defineRoute, type RouteContext } from '../http/router.js';
import type { ProducerState } from '../state.js';
import { errors } from './common.js';
import { requireVisible } from './schedules.js';
import { ScheduleRefParams } from '../schemas/schedules.js';
import { JobPage } from '../api-schemas.js';
import { DagListQuery, DagRunPage, JobSearchQuery, NextRuns, Overview, OverviewQuery, Session } from '../schemas/dashboard.js';

const OVERVIEW_TTL_MS = 1500;
// The hour's statistics change slowly and cost the most (up to 50,000 finished rows read:
// 420 ms measured with 500k in the hour): refreshed at most every 10 s per queue scope.
const THROUGHPUT_TTL_MS = 10_000;

interface OverviewData {
  page: QueuePage;
  throughput: Throughput;
  workers: WorkerOverview[];
  outbox?: { rows: number; oldestAgeMs: number };
  tables?: Record<string, number>;
  generatedAt: Date;
}

function only(ctx: RouteContext): readonly string[] | undefined {
  return ctx.principal.allQueues ? undefined : [...(ctx.principal.queues ?? [])];
}

export function dashboardRoutes(st: ProducerState) {
  const cache = new Map<string, { at: number; data: Promise<OverviewData> }>();
  const hourly = new Map<string, { at: number; data: Promise<Throughput> }>();

  function lastHour(scope: readonly string[] | undefined): Promise<Throughput> {
    const key = JSON.stringify(scope ?? '*');
    const hit = hourly.get(key);
    if (hit && Date.now() - hit.at < THROUGHPUT_TTL_MS) return hit.data;
    const data = st.jl.inspect.throughput({ only: scope });
    hourly.set(key, { at: Date.now(), data });
    data.catch(() => hourly.delete(key));
    if (hourly.size > 200) hourly.delete(hourly.keys().next().value!);
    return data;
  }

  function overview(
    key: string,
    q: { after?: string; prefix?: string; limit?: number },
    scope: readonly string[] | undefined,
  ): Promise<OverviewData> {
    const hit = cache.get(key);
    if (hit && Date.now() - hit.at < OVERVIEW_TTL_MS) return hit.data;
    const { inspect } = st.jl;
    const data = (async (): Promise<OverviewData> => {
      const [page, throughput, workers, outbox, tables] = await Promise.all([
        inspect.queues({ ...q, only: scope }),
        lastHour(scope),
        inspect.workers(200),
        // Outbox and table sizes span every queue: only for tokens that see every queue.
        scope ? undefined : inspect.outbox(),
        scope ? undefined : inspect.tables(),
      ]);
      return { page, throughput, workers, outbox, tables, generatedAt: new Date() };
    })();
    cache.set(key, { at: Date.now(), data });
    data.catch(() => cache.delete(key));
    if (cache.size > 200) cache.delete(cache.keys().next().value!);
    return data;
  }

  return [
    defineRoute({
      method: 'GET',
      path: '/v1/dashboard/session',
      operationId: 'dashboardSession',
      tag: 'dashboard',
      summary: "The caller's token: name, scopes and queues (the dashboard shows actions by scope)",
      scope: 'read',
      responses: { 200: { description: 'The session', schema: Session }, ...errors(401, 403) },
      async handle(ctx) {
        const p = ctx.principal;
        const scopes = (['read', 'write', 'admin'] as const).filter((s) => p.can(s));
        return {
          status: 200,
          body: {
            name: p.name,
            scopes,
            allQueues: p.allQueues,
            ...(p.queues ? { queues: [...p.queues].sort() } : {}),
            auth: st.config.tokens !== undefined,
          },
        };
      },
    }),
    defineRoute({
      method: 'GET',
      path: '/v1/dashboard/overview',
      operationId: 'dashboardOverview',
      tag: 'dashboard',
      summary: 'Queues (a page, by name) with depth by state, the last hour per queue and per minute, workers, outbox backlog',
      description:
        `Depth counts are exact up to ${DEPTH_COUNT_CAP} per queue and state, then extrapolated from the density of matching ids (\`estimated: true\`); ` +
        `the hour's statistics read at most ${STATS_SAMPLE_CAP} finished jobs (\`sampled: true\` when the cap was reached); ` +
        "the outbox backlog is the id range of waiting events (an upper bound). Cached for 1.5 s (the hour's statistics for 10 s).",
      scope: 'read',
      query: OverviewQuery,
      responses: { 200: { description: 'The overview', schema: Overview }, ...errors(400, 401, 403) },
      async handle(ctx, { query }) {
        const scope = only(ctx);
        const key = JSON.stringify([scope ?? '*', query.after, query.prefix, query.limit]);
        const d = await overview(key, query, scope);
        const workers = scope ? d.workers.filter((w) => w.queues.some((q) => scope.includes(q))) : d.workers;
        return {
          status: 200,
          body: {
            generatedAt: d.generatedAt,
            queues: d.page.queues,
            ...(d.page.nextAfter ? { nextAfter: d.page.nextAfter } : {}),
            depthCap: DEPTH_COUNT_CAP,
            throughput: { ...d.throughput, sampleCap: STATS_SAMPLE_CAP },
            workers,
            ...(d.outbox ? { outbox: d.outbox } : {}),
            ...(d.tables ? { tables: d.tables } : {}),
          },
        };
      },
    }),
    defineRoute({
      method: 'GET',
      path: '/v1/dashboard/jobs',
      operationId: 'dashboardJobs',
      tag: 'dashboard',
      summary: 'Search jobs by queue, state, name, creation time or DAG run; newest first, keyset pagination',
      description: 'Tokens limited to some queues must pass `queue`.',
      scope: 'read',
      query: JobSearchQuery,
      responses: { 200: { description: 'A page of jobs', schema: JobPage }, ...errors(400, 401, 403) },
      async handle(ctx, { query }) {
        if (query.queue === undefined && !ctx.principal.allQueues) {
          throw new HttpError(403, 'FORBIDDEN', `token "${ctx.principal.name}" is limited to some queues; pass ?queue=<name>`);
        }
        if (query.queue !== undefined) ctx.requireQueue(query.queue);
        return { status: 200, body: await st.jl.inspect.jobs(query) };
      },
    }),
    defineRoute({
      method: 'GET',
      path: '/v1/dashboard/dags',
      operationId: 'dashboardDags',
      tag: 'dashboard',
      summary: 'DAG runs, newest first, keyset pagination (a queue-limited token sees the runs whose every node is in its queues)',
      scope: 'read',
      query: DagListQuery,
      responses: { 200: { description: 'A page of runs', schema: DagRunPage }, ...errors(400, 401, 403) },
      async handle(ctx, { query }) {
        const page = await st.jl.inspect.dagRuns(query as Parameters<typeof st.jl.inspect.dagRuns>[0]);
        if (ctx.principal.allQueues) return { status: 200, body: page };
        const queues = await st.jl.inspect.dagRunQueues(page.runs.map((r) => r.id));
        const runs = page.runs.filter((r) => (queues.get(r.id) ?? []).every((q) => ctx.principal.canQueue(q)));
        return { status: 200, body: { ...page, runs } };
      },
    }),
    defineRoute({
      method: 'GET',
      path: '/v1/dashboard/schedules/:id/next',
      operationId: 'dashboardScheduleNext',
      tag: 'dashboard',
      summary: "A schedule's next five occurrences (cron and time zone; a paused schedule has none)",
      scope: 'read',
      params: ScheduleRefParams,
      responses: { 200: { description: 'Next occurrences', schema: NextRuns }, ...errors(400, 401, 403, 404) },
      async handle(ctx, { params }) {
        const sc = await st.jl.schedules.get(params.id);
        await requireVisible(st, ctx, sc);
        return { status: 200, body: { times: sc.paused ? [] : await st.jl.schedules.next(params.id, 5) } };
      },
    }),
  ];
}
