#!/usr/bin/env node
/**
 * The producer service: `node apps/producer/dist/main.js [--port N]` (or `jobline producer`).
 * Configured by environment variables (apps/README.md); flags override them.
 */
import { parseArgs } from 'node:util';
import { Jobline } from '@jobline/core';
import { createAppLogger } from '@jobline/core/observability';
import { ConfigError, loadConfig } from './config.js';
import { createProducer } from './server.js';

async function main(): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({
      options: { port: { type: 'string' }, host: { type: 'string' }, pretty: { type: 'boolean' } },
      allowPositionals: false,
    }));
  } catch (err) {
    process.stderr.write(`jobline producer: ${(err as Error).message}\nusage: jobline producer [--port N] [--host H] [--pretty]\n`);
    return 2;
  }
  const env = { ...process.env };
  if (values.port !== undefined) env.PORT = values.port;
  if (values.host !== undefined) env.HOST = values.host;
  if (values.pretty) env.LOG_FORMAT = 'pretty';
  let config;
  try {
    config = loadConfig(env);
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`jobline producer: ${err.message}\n`);
      return 2;
    }
    throw err;
  }
  const logger = createAppLogger({ level: config.logLevel, pretty: config.logFormat === 'pretty', name: 'producer' });
  const jl = await Jobline.connect({
    databaseUrl: config.databaseUrl,
    schema: config.schema,
    poolSize: config.poolSize,
    maxInputBytes: config.maxInputBytes,
    migrate: config.migrate,
    logger,
  });
  const producer = createProducer({ jl, config, logger, validateResponses: config.validateResponses });
  const url = await producer.listen(config.port, config.host);
  logger.info({ url, schema: config.schema, auth: config.tokens ? `${config.tokens.length} token(s)` : 'OFF' }, 'producer listening');
  // A line on stdout for whoever started us (the CLI, the demo, tests): where to connect.
  process.stdout.write(`jobline producer listening on ${url}\n`);

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) {
      logger.warn({ signal }, 'second signal: exiting now');
      process.exit(1);
    }
    stopping = true;
    logger.info({ signal }, 'stopping: finishing in-flight requests');
    const force = setTimeout(() => process.exit(1), 10_000).unref();
    await producer.close();
    await jl.close();
    clearTimeout(force);
    process.exit(0);
  };
  process.on('SIGTERM', () => void stop('SIGTERM'));
  process.on('SIGINT', () => void stop('SIGINT'));
  return -1;
}

main().then(
  (code) => {
    if (code >= 0) process.exit(code);
  },
  (err) => {
    process.stderr.write(`jobline producer: ${(err as Error).stack ?? err}\n`);
    process.exit(1);
  },
);
