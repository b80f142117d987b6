/**
 * `@jobline/core/admin`: operating a Jobline database — migrations and their status, schema
 * documentation, database roles, raw pools and transactions for tools, pooler settings.
 * What `jobline migrate|schema` and deploy scripts use; applications do not need it.
 */
export {
  migrate,
  migrationsCurrent,
  readMigrations,
  MIGRATIONS_DIR,
  RENUMBERED,
  type MigrationFile,
  type MigrateResult,
} from './db/migrate.js';
export { migrationStatus, pendingSql, type MigrationStatus } from './db/migrate-status.js';
export { assertNotNewer, readApplied, type AppliedMigration } from './db/schema-version.js';
export { describeSchema, renderSchemaMarkdown, undocumented, type SchemaDoc } from './db/schema-docs.js';
export { roleGrants, TABLE_PRIVILEGES, type RoleKind } from './db/roles.js';
export { createPool, withTransaction, pgTypes, type Queryable } from './db/pool.js';
export { PoolerMode, type ConnectionOptions } from './db/connection-options.js';
export { quoteSchema } from './db/identifiers.js';
export { dropSchema } from './db/drop-schema.js';
export { healthChecks, type HealthChecks } from './db/health.js';
export type { Topology } from './topology.js';
export { resolveConnectOptions, type ConnectOptions, type ResolvedConnectOptions } from './connect-options.js';
