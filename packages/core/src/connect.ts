import { startEmbedded, type EmbeddedServer } from './db/embedded.js';
import { createPool } from './db/pool.js';
import { statementHistogram } from './db/query-log.js';
import { openTopology } from './topology.js';
import { resolveConnectOptions, type ConnectOptions } from './connect-options.js';

/**
 * The first half of `Jobline.connect`: options validated once, the database found (or an
 * embedded one started), the topology probed (pooler, direct URL, wake-ups) and the pool made.
 */
export async function openConnection(options: ConnectOptions) {
  const o = resolveConnectOptions(options);
  const { schema, logger } = o;
  let url = o.databaseUrl;
  let embedded: EmbeddedServer | undefined;
  if (!url) {
    logger.info('DATABASE_URL is not set: starting an embedded PostgreSQL');
    embedded = await startEmbedded();
    url = embedded.url;
  }
  const topology = await openTopology(url, !!embedded, o.applicationName, logger, { ...o.topology, natsUrl: o.natsUrl, schema });
  const slowQueryMs = o.slowQueryMs;
  const statementDurations = statementHistogram();
  const queryLog = { logger, slowQueryMs, schema, histogram: statementDurations };
  const pool = createPool({
    connectionString: url,
    max: o.poolSize,
    applicationName: o.applicationName,
    extra: topology.poolConfig,
    queryLog,
  });
  return { o, schema, logger, url, embedded: embedded as EmbeddedServer | undefined, topology, pool, statementDurations };
}
