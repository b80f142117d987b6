import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Jobline } from '@jobline/core';
import { MetricsRegistry } from '@jobline/core/observability';

export interface HealthState {
  /** 'running' once the worker started; 'stopping' after a signal. */
  phase(): 'starting' | 'running' | 'stopping';
  workerId: string;
}

/**
 * Probes and metrics for orchestrators: /healthz (the process and its claim loop are alive —
 * 503 while stopping so no new traffic is routed here), /readyz (database reachable, every
 * migration applied, worker running), /metrics (Prometheus text).
 */
export function startHealthServer(
  jl: Jobline,
  metrics: MetricsRegistry,
  st: HealthState,
  port: number,
  host: string,
): Promise<{ server: Server; url: string }> {
  const server = createServer(async (req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    const json = (status: number, body: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' });
      res.end(JSON.stringify(body));
    };
    if (req.method !== 'GET' && req.method !== 'HEAD') return json(405, { error: { code: 'METHOD_NOT_ALLOWED', message: 'use GET' } });
    if (path === '/healthz') {
      const phase = st.phase();
      return json(phase === 'stopping' ? 503 : 200, { status: phase === 'stopping' ? 'stopping' : 'ok', workerId: st.workerId });
    }
    if (path === '/readyz') {
      const checks = await jl.health();
      const running = st.phase() === 'running';
      const ok = checks.database && checks.migrationsCurrent && running;
      return json(ok ? 200 : 503, { status: ok ? 'ready' : 'not ready', checks: { ...checks, workerRunning: running } });
    }
    if (path === '/metrics') {
      res.writeHead(200, { 'content-type': MetricsRegistry.CONTENT_TYPE, 'cache-control': 'no-store' });
      return res.end(metrics.render());
    }
    json(404, { error: { code: 'NOT_FOUND', message: 'try /healthz, /readyz or /metrics' } });
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      const a = server.address() as AddressInfo;
      resolve({ server, url: `http://${a.address}:${a.port}` });
    });
  });
}
