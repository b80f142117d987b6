import type pg from 'pg';
import { migrationsCurrent } from './migrate.js';

/** What readiness probes check (`jl.health()`; the producer's and the worker's `/readyz`). */
export interface HealthChecks {
  /** The database answered `select 1`. */
  database: boolean;
  /** Every migration this release ships is applied with a matching checksum. */
  migrationsCurrent: boolean;
}

/** The one readiness query: never throws, a failed check is `false`. */
export async function healthChecks(pool: pg.Pool, schema: string): Promise<HealthChecks> {
  const database = await pool.query('select 1').then(
    () => true,
    () => false,
  );
  return { database, migrationsCurrent: database && (await migrationsCurrent(pool, schema)) };
}
