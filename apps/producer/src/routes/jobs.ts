import type { EnqueueSpec, Job as CoreJob } from '@jobline/core';
import { BatchResult, ExecutionList, IdParams, Job, JobBatchCreate, JobCreate, JobPage, ListJobsQuery } from '../api-schemas.js';
import { HttpError } from '../http/errors.js';
import { defineRoute, type RouteContext } from '../http/router.js';
import type { ProducerState } from '../state.js';
import { callerTrace, errors } from './common.js';

/**
 * The queue a job will land in, for authorisation before anything is written: its own, else
 * its definition's default, else "default". Undefined for an unknown definition: nothing will
 * be written, and the enqueue answers 400 naming it.
 */
async function effectiveQueue(
  st: ProducerState,
  spec: { queue?: string; definition?: string },
  cache: Map<string, Promise<string | undefined>>,
): Promise<string | undefined> {
  if (spec.queue !== undefined) return spec.queue;
  if (spec.definition === undefined) return 'default';
  let q = cache.get(spec.definition);
  if (!q) {
    q = st.jl.getDefinition(spec.definition).then(
      (d) => d.defaults.queue ?? 'default',
      () => undefined,
    );
    cache.set(spec.definition, q);
  }
  return q;
}

async function loadJobInScope(st: ProducerState, ctx: RouteContext, id: number): Promise<CoreJob> {
  const job = await st.jl.getJob(id);
  ctx.requireQueue(job.queue);
  return job;
}

export function jobRoutes(st: ProducerState) {
  return [
    defineRoute({
      method: 'POST',
      path: '/v1/jobs',
      operationId: 'enqueueJob',
      tag: 'jobs',
      summary: 'Enqueue a job',
      description:
        'Creates a job (201). With an idempotencyKey that already exists in the queue, returns the existing job (200). ' +
        'Likewise singletonKey (an unfinished job with the key), throttle (the job of the open window) and debounce (the pending job, its input replaced): ' +
        'a 200 then says which in the `jobline-enqueue-policy` header. ' +
        "With a definition, the job takes its defaults and its input is validated against the definition's JSON schema.",
      scope: 'write',
      body: JobCreate,
      responses: {
        201: { description: 'Created', schema: Job },
        200: { description: 'An existing job (same idempotency key, singletonKey, throttle or debounce window)', schema: Job },
        ...errors(400, 401, 403, 413, 415),
      },
      async handle(ctx, { body }) {
        const queue = await effectiveQueue(st, body, new Map());
        if (queue !== undefined) ctx.requireQueue(queue);
        const [r] = await st.jl.insertJobs([body as EnqueueSpec], callerTrace(ctx.req), true);
        (r.created ? st.metrics.enqueued : st.metrics.duplicates).inc({ queue: r.job.queue });
        // Which rule answered with an existing job (idempotencyKey, singletonKey, throttle, debounce).
        const policy: Record<string, string> = r.policy ? { 'jobline-enqueue-policy': r.policy } : {};
        return { status: r.created ? 201 : 200, body: r.job, headers: { location: `/v1/jobs/${r.job.id}`, ...policy } };
      },
    }),
    defineRoute({
      method: 'POST',
      path: '/v1/jobs/batch',
      operationId: 'enqueueJobs',
      tag: 'jobs',
      summary: 'Enqueue up to 10,000 jobs at once (all or nothing)',
      description:
        'Results are in input order, each with `created: false` when an existing job was returned for its idempotency key. 201 when any job was created, else 200.',
      scope: 'write',
      body: JobBatchCreate,
      responses: {
        201: { description: 'At least one job created', schema: BatchResult },
        200: { description: 'Every job already existed', schema: BatchResult },
        ...errors(400, 401, 403, 413, 415),
      },
      async handle(ctx, { body }) {
        const cache = new Map<string, Promise<string | undefined>>();
        const queues = new Set(await Promise.all(body.jobs.map((j) => effectiveQueue(st, j, cache))));
        for (const q of queues) if (q !== undefined) ctx.requireQueue(q);
        const results = await st.jl.insertJobs(body.jobs as EnqueueSpec[], callerTrace(ctx.req));
        for (const r of results) (r.created ? st.metrics.enqueued : st.metrics.duplicates).inc({ queue: r.job.queue });
        return { status: results.some((r) => r.created) ? 201 : 200, body: { jobs: results } };
      },
    }),
    defineRoute({
      method: 'GET',
      path: '/v1/jobs',
      operationId: 'listJobs',
      tag: 'jobs',
      summary: 'List jobs, newest first (keyset pagination)',
      description: 'Tokens limited to some queues must pass `queue`.',
      scope: 'read',
      query: ListJobsQuery,
      responses: { 200: { description: 'A page of jobs', schema: JobPage }, ...errors(400, 401, 403) },
      async handle(ctx, { query }) {
        if (query.queue === undefined && !ctx.principal.allQueues) {
          throw new HttpError(403, 'FORBIDDEN', `token "${ctx.principal.name}" is limited to some queues; pass ?queue=<name>`);
        }
        if (query.queue !== undefined) ctx.requireQueue(query.queue);
        return { status: 200, body: await st.jl.listJobs(query) };
      },
    }),
    defineRoute({
      method: 'GET',
      path: '/v1/jobs/:id',
      operationId: 'getJob',
      tag: 'jobs',
      summary: 'Get a job',
      scope: 'read',
      params: IdParams,
      responses: { 200: { description: 'The job', schema: Job }, ...errors(400, 401, 403, 404) },
      async handle(ctx, { params }) {
        return { status: 200, body: await loadJobInScope(st, ctx, params.id) };
      },
    }),
    defineRoute({
      method: 'GET',
      path: '/v1/jobs/:id/executions',
      operationId: 'listExecutions',
      tag: 'jobs',
      summary: "A job's execution history: one entry per attempt, oldest first",
      scope: 'read',
      params: IdParams,
      responses: { 200: { description: 'The attempts', schema: ExecutionList }, ...errors(400, 401, 403, 404) },
      async handle(ctx, { params }) {
        await loadJobInScope(st, ctx, params.id);
        return { status: 200, body: { executions: await st.jl.executions(params.id) } };
      },
    }),
    defineRoute({
      method: 'POST',
      path: '/v1/jobs/:id/cancel',
      operationId: 'cancelJob',
      tag: 'jobs',
      summary: 'Cancel a job that has not finished',
      description: "A running attempt's AbortSignal fires on its worker. 409 when the job already finished.",
      scope: 'write',
      params: IdParams,
      bodyOptional: true,
      responses: { 200: { description: 'The cancelled job', schema: Job }, ...errors(400, 401, 403, 404, 409) },
      async handle(ctx, { params }) {
        await loadJobInScope(st, ctx, params.id);
        return { status: 200, body: await st.jl.cancel(params.id) };
      },
    }),
  ];
}
