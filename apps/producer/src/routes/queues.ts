import { QueueList } from '../api-schemas.js';
import { QueueGroups, QueueParams } from '../schemas/dashboard.js';
import { defineRoute } from '../http/router.js';
import type { ProducerState } from '../state.js';
import { errors } from './common.js';

export function queueRoutes(st: ProducerState) {
  return [
    defineRoute({
      method: 'GET',
      path: '/v1/queues',
      operationId: 'listQueues',
      tag: 'queues',
      summary: 'Queues with job counts per state (only the queues the token may see)',
      scope: 'read',
      responses: { 200: { description: 'The queues', schema: QueueList }, ...errors(401, 403) },
      async handle(ctx) {
        const queues = (await st.jl.listQueues()).filter((q) => ctx.principal.canQueue(q.name));
        return { status: 200, body: { queues } };
      },
    }),
    defineRoute({
      method: 'GET',
      path: '/v1/queues/:name/groups',
      operationId: 'listQueueGroups',
      tag: 'queues',
      summary: "A queue's group settings and its groups with running and available jobs, busiest first (at most 100)",
      scope: 'read',
      params: QueueParams,
      responses: { 200: { description: 'The groups', schema: QueueGroups }, ...errors(400, 401, 403) },
      async handle(ctx, { params }) {
        ctx.requireQueue(params.name);
        const [q, groups] = await Promise.all([st.jl.getQueueSettings(params.name), st.jl.listGroups(params.name)]);
        const settings = {
          ...(q.groupConcurrency !== undefined ? { groupConcurrency: q.groupConcurrency } : {}),
          ...(q.rateLimit ? { rateLimit: q.rateLimit } : {}),
          ...(q.groupRateLimit ? { groupRateLimit: q.groupRateLimit } : {}),
        };
        return { status: 200, body: { queue: params.name, settings, groups } };
      },
    }),
  ];
}
