import { QueueList } from '../api-schemas.js';
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
  ];
}
