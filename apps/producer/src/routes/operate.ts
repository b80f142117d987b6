/**
 * Operator actions the dashboard offers (scope `write`): retry a job now, bulk-retry a filtered
 * set of failed jobs, pause and resume a queue, change its concurrency limit. Each one is a
 * library call (`jl.retry`, `jl.retryMany`, `jl.updateQueue`) and checks the token's queues.
 */
import { Job, IdParams } from '../api-schemas.js';
import { HttpError } from '../http/errors.js';
import { defineRoute } from '../http/router.js';
import type { ProducerState } from '../state.js';
import { errors } from './common.js';
import { BulkRetry, BulkRetryResult, QueueParams, QueueSettings, QueueSettingsPatch } from '../schemas/dashboard.js';

export function operateRoutes(st: ProducerState) {
  const { jl } = st;
  const queueAction = (op: 'pause' | 'resume') =>
    defineRoute({
      method: 'POST',
      path: `/v1/queues/:name/${op}`,
      operationId: `${op}Queue`,
      tag: 'queues',
      summary: op === 'pause' ? 'Pause a queue: workers stop claiming from it (running jobs finish)' : 'Resume a paused queue',
      scope: 'write',
      params: QueueParams,
      bodyOptional: true,
      responses: { 200: { description: 'The queue settings', schema: QueueSettings }, ...errors(400, 401, 403) },
      async handle(ctx, { params }) {
        ctx.requireQueue(params.name);
        return { status: 200, body: await jl.updateQueue(params.name, { paused: op === 'pause' }) };
      },
    });
  return [
    defineRoute({
      method: 'POST',
      path: '/v1/jobs/:id/retry',
      operationId: 'retryJob',
      tag: 'jobs',
      summary: 'Retry a failed or cancelled job now (or run a retryable one without waiting for its backoff)',
      description:
        'The job becomes available with one more attempt allowed; its history is kept and a `retrying` event is written. ' +
        '409 for jobs in other states and for jobs of DAG runs that have settled.',
      scope: 'write',
      params: IdParams,
      bodyOptional: true,
      responses: { 200: { description: 'The job, available again', schema: Job }, ...errors(400, 401, 403, 404, 409) },
      async handle(ctx, { params }) {
        ctx.requireQueue((await jl.getJob(params.id)).queue);
        return { status: 200, body: await jl.retry(params.id) };
      },
    }),
    defineRoute({
      method: 'POST',
      path: '/v1/jobs/retry',
      operationId: 'retryJobs',
      tag: 'jobs',
      summary:
        'Bulk retry: failed (or cancelled) jobs matching queue, name and creation time, at most `limit` (1,000) per call, newest first',
      description: 'DAG jobs are left out. `more: true` when the limit was reached. Tokens limited to some queues must give `queue`.',
      scope: 'write',
      body: BulkRetry,
      responses: { 200: { description: 'What was retried', schema: BulkRetryResult }, ...errors(400, 401, 403, 413, 415) },
      async handle(ctx, { body }) {
        if (body.queue === undefined && !ctx.principal.allQueues) {
          throw new HttpError(403, 'FORBIDDEN', `token "${ctx.principal.name}" is limited to some queues; give "queue"`);
        }
        if (body.queue !== undefined) ctx.requireQueue(body.queue);
        return { status: 200, body: await jl.retryMany(body) };
      },
    }),
    queueAction('pause'),
    queueAction('resume'),
    defineRoute({
      method: 'POST',
      path: '/v1/queues/:name/settings',
      operationId: 'updateQueueSettings',
      tag: 'queues',
      summary: "Change a queue's concurrency limit (running jobs across all workers; null = none)",
      scope: 'write',
      params: QueueParams,
      body: QueueSettingsPatch,
      responses: { 200: { description: 'The queue settings', schema: QueueSettings }, ...errors(400, 401, 403, 413, 415) },
      async handle(ctx, { params, body }) {
        ctx.requireQueue(params.name);
        return { status: 200, body: await jl.updateQueue(params.name, body) };
      },
    }),
  ];
}
