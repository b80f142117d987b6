import { z } from 'zod';
import { startEmbedded, type EmbeddedServer } from './db/embedded.js';
import { quoteSchema } from './db/identifiers.js';
import { createPool } from './db/pool.js';
import { statementHistogram } from './db/query-log.js';
import { defaultLogger } from './logger.js';
import { parseOrThrow } from './schemas.js';
import { openTopology, type TopologyOptions } from './topology.js';
import { ConnectSchema, type ConnectOptions } from './connect-options.js';

/**
 * The first half of `Jobline.connect`: options validated once, the database found (or an
 * embedded one started), the topology probed (pooler, direct URL, wake-ups) and the pool made.
 */
export async function openConnection(options: ConnectOptions) {
  const o = parseOrThrow(ConnectSchema, options);
  const schema = o.schema ?? process.env.JOBLINE_SCHEMA ?? 'jobline';
  quoteSchema(schema);
  const logger = o.logger ?? defaultLogger();
  let url = o.databaseUrl ?? process.env.DATABASE_URL;
  let embedded: EmbeddedServer | undefined;
  if (!url) {
    logger.info('DATABASE_URL is not set: starting an embedded PostgreSQL');
    embedded = await startEmbedded();
    url = embedded.url;
  }
  const topology = await openTopology(url, !!embedded, o.applicationName, logger, {
    pooler: o.pooler as TopologyOptions['pooler'],
    directUrl: o.directUrl as string | undefined,
    statementTimeoutMs: o.statementTimeoutMs as number | undefined,
    connectTimeoutMs: o.connectTimeoutMs as number | undefined,
    wakeups: o.wakeups as TopologyOptions['wakeups'],
    natsUrl: (o.natsUrl ?? process.env.NATS_URL) || undefined,
    schema,
  });
  const slowQueryMs = o.slowQueryMs ?? parseOrThrow(z.coerce.number().min(0).default(0), process.env.JOBLINE_SLOW_QUERY_MS || undefined, 'JOBLINE_SLOW_QUERY_MS');
  const statementDurations = statementHistogram();
  const queryLog = { logger, slowQueryMs, schema, histogram: statementDurations };
  const pool = createPool({ connectionString: url, max: o.poolSize, applicationName: o.applicationName, extra: topology.poolConfig, queryLog });
  return { o, schema, logger, url, embedded: embedded as EmbeddedServer | undefined, topology, pool, statementDurations };
}
