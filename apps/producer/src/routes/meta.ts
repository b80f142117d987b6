import { MetricsRegistry } from '@jobline/core/observability';
import { Health, Ready } from '../api-schemas.js';
import { defineRoute, type Route } from '../http/router.js';
import { buildOpenApi } from '../openapi.js';
import type { ProducerState } from '../state.js';
import { errors } from './common.js';

/** Probes, metrics and the API document: public, no token. */
export function metaRoutes(st: ProducerState, allRoutes: () => Route[]) {
  let openapi: string | undefined;
  return [
    defineRoute({
      method: 'GET',
      path: '/healthz',
      operationId: 'health',
      tag: 'operations',
      summary: 'Liveness: the process is serving requests',
      scope: 'public',
      responses: { 200: { description: 'Alive', schema: Health } },
      async handle() {
        return { status: 200, body: { status: 'ok' } };
      },
    }),
    defineRoute({
      method: 'GET',
      path: '/readyz',
      operationId: 'ready',
      tag: 'operations',
      summary: 'Readiness: the database answers and every migration is applied',
      scope: 'public',
      responses: { 200: { description: 'Ready', schema: Ready }, 503: { description: 'Not ready', schema: Ready } },
      async handle() {
        const checks = await st.jl.health();
        const ok = checks.database && checks.migrationsCurrent;
        return { status: ok ? 200 : 503, body: { status: ok ? 'ready' : 'not ready', checks } };
      },
    }),
    defineRoute({
      method: 'GET',
      path: '/metrics',
      operationId: 'metrics',
      tag: 'operations',
      summary: 'Prometheus metrics (text exposition format 0.0.4)',
      scope: 'public',
      responses: { 200: { description: 'Metrics', contentType: 'text/plain' } },
      async handle() {
        // Held groups are database state: read once per scrape (one grouped count of job_groups).
        const held = await st.jl.heldGroupCounts().catch(() => undefined);
        if (held) st.metrics.held.set({ reason: 'quota' }, held.quota ?? 0);
        return { status: 200, body: st.metrics.registry.render(), contentType: MetricsRegistry.CONTENT_TYPE };
      },
    }),
    defineRoute({
      method: 'GET',
      path: '/openapi.json',
      operationId: 'openapi',
      tag: 'operations',
      summary: 'This API as an OpenAPI 3.1 document',
      scope: 'public',
      responses: { 200: { description: 'The document' }, ...errors() },
      async handle() {
        openapi ??= JSON.stringify(buildOpenApi(allRoutes()));
        return { status: 200, body: openapi, contentType: 'application/json' };
      },
    }),
  ];
}
