import type { Queryable } from '@jobline/core';
import { QueueList } from '../api-schemas.js';
import { QueueGroups, QueueParams } from './dashboard-schemas.js';
import { defineRoute } from '../http/router.js';
import type { ProducerState } from '../state.js';
import { errors } from './common.js';

interface QueueRow {
  name: string;
  paused: boolean;
  concurrencyLimit?: number;
  counts: Record<string, number>;
}

/**
 * Every queue that has a configuration row or jobs, with job counts per state. The counts read
 * the (queue, state, id) index; on tables with millions of finished rows this is an admin
 * query, not something to poll many times a second.
 */
async function listQueues(db: Queryable, s: string): Promise<QueueRow[]> {
  const { rows } = await db.query(`
    with counts as (select queue, state, count(*)::int as n from ${s}.jobs group by queue, state)
    select coalesce(q.name, c.queue) as name, coalesce(q.paused, false) as paused, q.concurrency_limit,
           coalesce(jsonb_object_agg(c.state, c.n) filter (where c.state is not null), '{}'::jsonb) as counts
      from ${s}.queues q full join counts c on c.queue = q.name
     group by 1, 2, 3
     order by 1`);
  return rows.map((r) => ({
    name: r.name,
    paused: r.paused,
    ...(r.concurrency_limit === null ? {} : { concurrencyLimit: r.concurrency_limit }),
    counts: r.counts,
  }));
}

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
        const queues = (await listQueues(st.jl.pool, st.jl.s)).filter((q) => ctx.principal.canQueue(q.name));
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
