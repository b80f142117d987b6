import type { Queryable } from './pool.js';
import { quoteSchema } from './identifiers.js';

/**
 * Drops a Jobline schema and everything in it (tools: throwaway demo and docs schemas). The
 * name is checked like every schema name (quoteSchema), so nothing else can be dropped.
 */
export async function dropSchema(db: Queryable, schema: string): Promise<void> {
  await db.query(`drop schema if exists ${quoteSchema(schema)} cascade`);
}
