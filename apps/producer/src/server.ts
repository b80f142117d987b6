import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Jobline } from '@jobline/core';
import { mirrorMetricsToOpenTelemetry } from '@jobline/core/observability';
import type { Logger } from 'pino';
import { ANONYMOUS_ADMIN, authenticate, type Principal } from './auth.js';
import type { ProducerConfig } from './config.js';
import { readJson } from './http/body.js';
import { HttpError, toErrorResponse } from './http/errors.js';
import { Router, parsePart, type Route, type RouteContext, type RouteResult } from './http/router.js';
import { ErrorBody } from './api-schemas.js';
import { createProducerMetrics, type ProducerMetrics } from './metrics.js';
import { definitionRoutes } from './routes/definitions.js';
import { dagRoutes } from './routes/dags.js';
import { jobRoutes } from './routes/jobs.js';
import { metaRoutes } from './routes/meta.js';
import { queueRoutes } from './routes/queues.js';
import { quotaRoutes } from './routes/quotas.js';
import { scheduleRoutes } from './routes/schedules.js';
import type { ProducerState } from './state.js';
import { dashboardRoutes } from './routes/dashboard.js';
import { operateRoutes } from './routes/operate.js';
import { UI_CSRF_HEADER, cookieToken, createUiHandler, dashboardDir } from './ui.js';

export interface ProducerOptions {
  jl: Jobline;
  config: Pick<ProducerConfig, 'tokens' | 'maxBodyBytes'> & Partial<ProducerConfig>;
  logger: Logger;
  /**
   * Check every response against its declared schema too; a mismatch becomes a 500 and an error
   * log. For tests and staging (JOBLINE_VALIDATE_RESPONSES=on): it costs a JSON round trip.
   * @default false
   */
  validateResponses?: boolean;
  /** The built dashboard served under /ui/. @default JOBLINE_DASHBOARD_DIR, else @jobline/dashboard's dist/ */
  dashboardDir?: string;
}

export interface Producer {
  server: Server;
  router: Router;
  metrics: ProducerMetrics;
  /** Listens on `port` (0 = any free port); resolves with the base URL. */
  listen(port: number, host?: string): Promise<string>;
  close(): Promise<void>;
}

export function createProducer(o: ProducerOptions): Producer {
  const metrics = createProducerMetrics();
  metrics.registry.register(o.jl.statementDurations);
  mirrorMetricsToOpenTelemetry(metrics.registry); // also through the OpenTelemetry metrics API when installed
  const st: ProducerState = { jl: o.jl, config: o.config as ProducerConfig, logger: o.logger, metrics };
  const routes: Route[] = [];
  routes.push(
    ...jobRoutes(st),
    ...dagRoutes(st),
    ...definitionRoutes(st),
    ...queueRoutes(st),
    ...quotaRoutes(st),
    ...scheduleRoutes(st),
    ...dashboardRoutes(st),
    ...operateRoutes(st),
    ...metaRoutes(st, () => routes),
  );
  const router = new Router(routes);
  if (!o.config.tokens) {
    o.logger.warn(
      '!!! AUTHENTICATION IS OFF (JOBLINE_AUTH=off): anyone who can reach this port can enqueue, cancel and read every job. Use this for local development only. !!!',
    );
  }

  const handleUi = createUiHandler({ tokens: o.config.tokens, dir: o.dashboardDir ?? dashboardDir() });
  const server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (path === '/ui' || path.startsWith('/ui/')) void serveUi(req, res, path);
    else void handle(req, res);
  });
  server.requestTimeout = 30_000;
  server.headersTimeout = 15_000;

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const started = performance.now();
    const method = req.method ?? 'GET';
    let routeLabel = 'unmatched';
    let result: RouteResult;
    let principal: Principal | undefined;
    try {
      const url = new URL(req.url ?? '/', 'http://localhost');
      const { route, params } = router.match(method, url.pathname);
      routeLabel = route.path;
      principal = authorise(route, req);
      const ctx: RouteContext = {
        req,
        principal,
        log: o.logger,
        requireQueue(queue) {
          if (!principal!.canQueue(queue)) {
            throw new HttpError(403, 'FORBIDDEN', `token "${principal!.name}" may not use queue "${queue}"`);
          }
        },
      };
      const input = {
        params: route.params ? parsePart(route.params, params) : undefined,
        query: route.query ? parsePart(route.query, Object.fromEntries(url.searchParams)) : undefined,
        body: undefined as unknown,
      };
      if (!route.query && [...url.searchParams.keys()].length && route.scope !== 'public') {
        throw new HttpError(400, 'VALIDATION', 'this endpoint takes no query parameters', [
          { path: [...url.searchParams.keys()][0], message: 'unknown query parameter' },
        ]);
      }
      if (route.body) {
        const raw = await readJson(req, o.config.maxBodyBytes);
        if (raw === undefined && !route.bodyOptional) {
          throw new HttpError(400, 'VALIDATION', 'send a JSON body (Content-Type: application/json)', [
            { path: '', message: 'body is required' },
          ]);
        }
        input.body = raw === undefined ? undefined : parsePart(route.body, raw);
      } else if (method === 'POST' || method === 'DELETE') {
        await readJson(req, o.config.maxBodyBytes); // content type and size rules apply to every body
      }
      result = await route.handle(ctx, input);
    } catch (err) {
      const e = toErrorResponse(err);
      if (e.unexpected) o.logger.error({ err, method, url: req.url }, 'request failed');
      else o.logger.debug({ method, url: req.url, status: e.status, code: e.body.error.code }, 'request refused');
      result = { status: e.status, body: e.body, headers: e.headers };
    }
    if (o.validateResponses) result = checkResponse(routeLabel, router, method, result, o.logger);
    send(res, method, result);
    const seconds = (performance.now() - started) / 1000;
    metrics.requests.inc({ method, route: routeLabel, status: result.status });
    metrics.duration.observe({ method, route: routeLabel }, seconds);
    o.logger.debug({ method, route: routeLabel, status: result.status, ms: Math.round(seconds * 1000), token: principal?.name }, 'request');
  }

  async function serveUi(req: IncomingMessage, res: ServerResponse, path: string): Promise<void> {
    const started = performance.now();
    try {
      await handleUi(req, res, path);
    } catch (err) {
      o.logger.error({ err, url: req.url }, 'dashboard request failed');
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' });
      res.end('internal error; the server log has the details');
    }
    metrics.requests.inc({ method: req.method ?? 'GET', route: '/ui', status: res.statusCode });
    metrics.duration.observe({ method: req.method ?? 'GET', route: '/ui' }, (performance.now() - started) / 1000);
  }

  function authorise(route: Route, req: IncomingMessage): Principal {
    if (route.scope === 'public' || !o.config.tokens) return ANONYMOUS_ADMIN;
    // The dashboard's cookie stands for the same token as a bearer header (ui.ts); changes made
    // with it need the dashboard's header too, which no cross-site form can send.
    const cookie = req.headers.authorization ? undefined : cookieToken(req);
    if (cookie !== undefined && req.method !== 'GET' && req.method !== 'HEAD' && req.headers[UI_CSRF_HEADER] !== '1') {
      throw new HttpError(403, 'FORBIDDEN', `requests authenticated by the dashboard cookie must send "${UI_CSRF_HEADER}: 1"`);
    }
    const p = authenticate(o.config.tokens, cookie !== undefined ? `Bearer ${cookie}` : req.headers.authorization);
    if (!p) {
      throw new HttpError(401, 'UNAUTHORIZED', 'send a valid token as "Authorization: Bearer <token>"', undefined, {
        'www-authenticate': 'Bearer realm="jobline"',
      });
    }
    if (!p.can(route.scope)) throw new HttpError(403, 'FORBIDDEN', `token "${p.name}" lacks the "${route.scope}" scope`);
    return p;
  }

  return {
    server,
    router,
    metrics,
    listen(port, host = '127.0.0.1') {
      return new Promise((resolve, reject) => {
        server.once('error', reject);
        server.listen(port, host, () => {
          server.off('error', reject);
          const a = server.address() as AddressInfo;
          resolve(`http://${a.family === 'IPv6' ? `[${a.address}]` : a.address}:${a.port}`);
        });
      });
    },
    close() {
      return new Promise((resolve) => {
        server.close(() => resolve());
        server.closeIdleConnections();
      });
    },
  };
}

/**
 * Checks a response against the schema its route declares for that status (a JSON round trip
 * first: dates become strings, as on the wire). Success statuses must be declared; errors must
 * have the error shape.
 */
function checkResponse(routeLabel: string, router: Router, method: string, r: RouteResult, logger: Logger): RouteResult {
  if (r.contentType) return r; // text bodies: /metrics, the OpenAPI document
  const route = router.routes.find((x) => x.path === routeLabel && x.method === (method === 'HEAD' ? 'GET' : method));
  const schema = route?.responses[r.status]?.schema ?? (r.status >= 400 ? ErrorBody : undefined);
  const problem = !schema
    ? `status ${r.status} is not declared`
    : (() => {
        const parsed = schema.safeParse(JSON.parse(JSON.stringify(r.body ?? null)));
        return parsed.success ? undefined : JSON.stringify(parsed.error.issues.slice(0, 5));
      })();
  if (!problem) return r;
  logger.error({ route: routeLabel, status: r.status, problem }, 'response does not match its declared schema');
  return {
    status: 500,
    body: {
      error: { code: 'INTERNAL', message: `response of ${method} ${routeLabel} (${r.status}) does not match its schema: ${problem}` },
    },
  };
}

function send(res: ServerResponse, method: string, r: RouteResult): void {
  if (res.headersSent) return;
  const text = r.contentType ? String(r.body) : JSON.stringify(r.body ?? null);
  const headers: Record<string, string | number> = {
    'content-type': r.contentType ?? 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(text),
    'cache-control': 'no-store',
    'x-content-type-options': 'nosniff',
    ...r.headers,
  };
  res.writeHead(r.status, headers);
  res.end(method === 'HEAD' ? undefined : text);
}
