import type { DagRunDetail, DagSpec } from '@jobline/core';
import { DagCreate, DagRun, IdParams } from '../api-schemas.js';
import { defineRoute, type RouteContext } from '../http/router.js';
import type { ProducerState } from '../state.js';
import { callerTrace, errors } from './common.js';

/** A run is visible to a token only when every node's queue is. */
function requireRunQueues(ctx: RouteContext, run: DagRunDetail): void {
  for (const q of new Set(run.nodes.map((n) => n.queue))) ctx.requireQueue(q);
}

/** `created` is told by the status code (201/200), as for jobs. */
const body = ({ created: _c, ...run }: DagRunDetail & { created?: boolean }) => run;

export function dagRoutes(st: ProducerState) {
  return [
    defineRoute({
      method: 'POST',
      path: '/v1/dags',
      operationId: 'submitDag',
      tag: 'dags',
      summary: 'Submit a DAG run (atomically: all nodes or none)',
      description:
        'Nodes are validated as a whole (unique keys, known parents, no cycles — the error names the cycle). Roots start at once; ' +
        'a node starts when all its parents succeeded, and may reference their outputs with {"$ref": "<parent>.output.<path>"}. ' +
        '201 when created; 200 with the existing run for a repeated idempotencyKey.',
      scope: 'write',
      body: DagCreate,
      responses: {
        201: { description: 'Created', schema: DagRun },
        200: { description: 'The existing run for this idempotency key', schema: DagRun },
        ...errors(400, 401, 403, 413, 415),
      },
      async handle(ctx, { body: spec }) {
        // Authorise the queues named up front; nodes that take their queue from a definition are checked on the created run.
        for (const n of spec.nodes) if (n.queue !== undefined) ctx.requireQueue(n.queue);
        if (!ctx.principal.allQueues && spec.nodes.some((n) => n.queue === undefined)) {
          for (const n of spec.nodes) {
            if (n.queue !== undefined) continue;
            const q = n.definition
              ? ((await st.jl.getDefinition(n.definition).catch(() => undefined))?.defaults.queue ?? 'default')
              : 'default';
            ctx.requireQueue(q);
          }
        }
        const run = await st.jl.submitDag(spec as DagSpec, callerTrace(ctx.req));
        if (run.created) st.metrics.dagsSubmitted.inc();
        return { status: run.created ? 201 : 200, body: body(run), headers: { location: `/v1/dags/${run.id}` } };
      },
    }),
    defineRoute({
      method: 'GET',
      path: '/v1/dags/:id',
      operationId: 'getDag',
      tag: 'dags',
      summary: "A DAG run with every node's state, attempts and timings, and its edges",
      scope: 'read',
      params: IdParams,
      responses: { 200: { description: 'The run', schema: DagRun }, ...errors(400, 401, 403, 404) },
      async handle(ctx, { params }) {
        const run = await st.jl.getDag(params.id);
        requireRunQueues(ctx, run);
        return { status: 200, body: body(run) };
      },
    }),
    defineRoute({
      method: 'POST',
      path: '/v1/dags/:id/cancel',
      operationId: 'cancelDag',
      tag: 'dags',
      summary: 'Cancel every unfinished node of a run; running nodes have their signals aborted',
      scope: 'write',
      params: IdParams,
      bodyOptional: true,
      responses: { 200: { description: 'The run after cancelling', schema: DagRun }, ...errors(400, 401, 403, 404, 409) },
      async handle(ctx, { params }) {
        requireRunQueues(ctx, await st.jl.getDag(params.id));
        return { status: 200, body: body(await st.jl.cancelDag(params.id)) };
      },
    }),
  ];
}
