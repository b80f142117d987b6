import type { Server } from 'node:http';
import type { Handlers, Jobline, Worker, WorkerOptions } from '@jobline/core';
import { mirrorMetricsToOpenTelemetry, type MetricsRegistry } from '@jobline/core/observability';
import type { ProcessExecutorOptions } from '@jobline/core/executors';
import { startHealthServer } from './health-server.js';
import { createWorkerMetrics } from './metrics.js';

export interface WorkerAppOptions {
  jl: Jobline;
  /** Handler module exports; process jobs need none. */
  handlers?: Handlers;
  /** Core worker options (queues, concurrency, backoff, handleSignals, executors, …); handlers are set here. */
  worker?: Omit<WorkerOptions, 'handlers'>;
  /** Process executor options (shorthand for `worker.executors.process`). */
  process?: ProcessExecutorOptions;
  /** Port for /healthz, /readyz and /metrics; undefined = no HTTP server. */
  port?: number;
  host?: string;
  /** When the port is taken, log a warning and run without the server instead of failing. @default false */
  portOptional?: boolean;
}

export interface WorkerApp {
  worker: Worker;
  metrics: MetricsRegistry;
  /** Base URL of the health server, when one was started. */
  url?: string;
  /** Stops the worker gracefully (running jobs finish within the grace period), then the health server. */
  stop(): Promise<void>;
}

/**
 * The worker app: a core Worker (which runs handler, process and container jobs by definition
 * through the core's executors) with probes and metrics.
 */
export async function startWorkerApp(o: WorkerAppOptions): Promise<WorkerApp> {
  const handlers = o.handlers ?? {};
  const executors = o.worker?.executors ?? {};
  const processOpts = executors.process === false ? false : { ...(executors.process ?? {}), ...(o.process ?? {}) };
  const worker = o.jl.worker({ ...o.worker, handlers, executors: { ...executors, process: processOpts } });
  const metrics = createWorkerMetrics(worker);
  metrics.register(o.jl.statementDurations);
  mirrorMetricsToOpenTelemetry(metrics); // also through the OpenTelemetry metrics API when installed
  let phase: 'starting' | 'running' | 'stopping' = 'starting';
  let server: Server | undefined;
  let url: string | undefined;
  if (o.port !== undefined) {
    try {
      ({ server, url } = await startHealthServer(o.jl, metrics, { phase: () => phase, workerId: worker.id }, o.port, o.host ?? '0.0.0.0'));
    } catch (err) {
      if (!o.portOptional || (err as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw err;
      o.jl.logger.warn(
        { port: o.port },
        'the default health/metrics port is in use: running without /healthz, /readyz and /metrics (set PORT to choose one)',
      );
    }
  }
  await worker.start();
  phase = 'running';
  // Signals handled by the core worker (handleSignals) also flip the probes to "stopping".
  const markStopping = () => (phase = 'stopping');
  if (o.worker?.handleSignals) {
    process.on('SIGTERM', markStopping);
    process.on('SIGINT', markStopping);
  }
  return {
    worker,
    metrics,
    url,
    async stop() {
      phase = 'stopping';
      await worker.stop();
      process.off('SIGTERM', markStopping);
      process.off('SIGINT', markStopping);
      if (server) {
        const s = server;
        await new Promise<void>((r) => {
          s.close(() => r());
          s.closeAllConnections();
        });
      }
    },
  };
}
