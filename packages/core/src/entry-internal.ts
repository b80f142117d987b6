/**
 * `@jobline/core/internal`: for this repository's own packages (@jobline/testing) and tests.
 * Reaches what Jobline keeps private (pool, connection string, resolved options, topology).
 * Not for applications; no semver promise.
 */
export { internals, type JoblineInternals } from './internals.js';
export { LeaderService } from './node/leader-service.js';
