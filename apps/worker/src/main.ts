#!/usr/bin/env node
/**
 * The worker process: `node apps/worker/dist/main.js --queues a,b --concurrency N --handlers ./h.js`
 * (or `jobline worker …`). SIGTERM/SIGINT: the first stops gracefully (running jobs get the
 * shutdown grace period, then are released for other workers), the second forces it.
 */
import { parseArgs } from 'node:util';
import { Jobline } from '@jobline/core';
import { createAppLogger } from '@jobline/core/observability';
import { startWorkerApp } from './app.js';
import { ConfigError, FLAGS, loadWorkerConfig } from './config.js';
import { HandlerModuleError, loadHandlers } from './handlers.js';

const USAGE = `usage: jobline worker [--queues a,b] [--concurrency N] [--handlers ./handlers.js] [--port P]
                      [--id ID] [--shutdown-grace-ms MS] [--kill-grace-ms MS] [--backoff-base-ms MS] [--backoff-max-ms MS]
                      [--executors handler,process,container] [--pretty]`;

async function main(): Promise<number> {
  let values: Record<string, string | boolean | undefined>;
  try {
    const options = Object.fromEntries(Object.keys(FLAGS).map((f) => [f, { type: 'string' as const }]));
    ({ values } = parseArgs({ options: { ...options, pretty: { type: 'boolean' } }, allowPositionals: false }));
  } catch (err) {
    process.stderr.write(`jobline worker: ${(err as Error).message}\n${USAGE}\n`);
    return 2;
  }
  let config;
  try {
    config = loadWorkerConfig(process.env, values as Record<string, string>);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    process.stderr.write(`jobline worker: ${err.message}\n`);
    return 2;
  }
  const logger = createAppLogger({
    level: config.LOG_LEVEL,
    pretty: values.pretty === true || config.LOG_FORMAT === 'pretty',
    name: 'worker',
  });
  let handlers = {};
  if (config.JOBLINE_HANDLERS) {
    try {
      handlers = await loadHandlers(config.JOBLINE_HANDLERS);
    } catch (err) {
      if (!(err instanceof HandlerModuleError)) throw err;
      process.stderr.write(`jobline worker: ${err.message}\n`);
      return 2;
    }
  }
  const jl = await Jobline.connect({
    databaseUrl: config.DATABASE_URL,
    schema: config.JOBLINE_SCHEMA,
    poolSize: config.JOBLINE_POOL_SIZE ?? Math.min(50, 4 + Math.ceil(config.JOBLINE_CONCURRENCY / 5)),
    migrate: config.JOBLINE_MIGRATE === 'on',
    logger,
  });
  const backoff =
    config.JOBLINE_BACKOFF_BASE_MS !== undefined || config.JOBLINE_BACKOFF_MAX_MS !== undefined
      ? { baseMs: config.JOBLINE_BACKOFF_BASE_MS, maxMs: config.JOBLINE_BACKOFF_MAX_MS }
      : undefined;
  const app = await startWorkerApp({
    jl,
    handlers,
    // Kubernetes-style default of 9090; a second worker on the same host just goes without.
    port: config.PORT === 'off' ? undefined : (config.PORT ?? 9090),
    portOptional: config.PORT === undefined,
    host: config.HOST,
    process: { killGraceMs: config.JOBLINE_KILL_GRACE_MS },
    worker: {
      queues: config.JOBLINE_QUEUES,
      concurrency: config.JOBLINE_CONCURRENCY,
      shutdownGraceMs: config.JOBLINE_SHUTDOWN_GRACE_MS,
      maintenance: config.JOBLINE_MAINTENANCE === 'on',
      handleSignals: true,
      ...(backoff ? { backoff } : {}),
      ...(config.JOBLINE_WORKER_ID ? { id: config.JOBLINE_WORKER_ID } : {}),
      executors: {
        handler: config.JOBLINE_EXECUTORS.includes('handler'),
        process: config.JOBLINE_EXECUTORS.includes('process') ? {} : false,
        container: config.JOBLINE_EXECUTORS.includes('container') ? { defaultNetwork: config.JOBLINE_CONTAINER_NETWORK } : false,
        resources: { cpu: config.JOBLINE_WORKER_CPU, memoryMb: config.JOBLINE_WORKER_MEMORY_MB },
      },
    },
  });
  logger.info({ workerId: app.worker.id, handlers: Object.keys(handlers), health: app.url }, 'worker app ready');
  // A line on stdout for whoever started us (the CLI, the demo, tests).
  process.stdout.write(`jobline worker ${app.worker.id} ready${app.url ? ` (health on ${app.url})` : ''}\n`);
  return -1;
}

main().then(
  (code) => {
    if (code >= 0) process.exit(code);
  },
  (err) => {
    process.stderr.write(`jobline worker: ${(err as Error).stack ?? err}\n`);
    process.exit(1);
  },
);
