/**
 * What a Jobline keeps private, for code inside this repository only: @jobline/testing and the
 * repository's tests (through the `@jobline/core/internal` subpath). Applications use the
 * public API; nothing here is covered by semver.
 */
import type pg from 'pg';
import type { ResolvedConnectOptions } from './connect-options.js';
import type { Jobline } from './jobline.js';
import type { Topology } from './topology.js';

export interface JoblineInternals {
  pool: pg.Pool;
  /** The connection string: it holds the password. */
  connectionString: string;
  /** Every option after resolution (connect-options.ts). */
  options: ResolvedConnectOptions;
  /** Quoted schema, for SQL. */
  s: string;
  topology: Topology | undefined;
  natsUrl: string | undefined;
}

/** The private parts of `jl` (read live: `topology` is set while connecting). */
export function internals(jl: Jobline): JoblineInternals {
  // TypeScript's `private` is a compile-time boundary; this is its one sanctioned crossing.
  const p = jl as unknown as JoblineInternals;
  return {
    get pool() {
      return p.pool;
    },
    get connectionString() {
      return p.connectionString;
    },
    get options() {
      return p.options;
    },
    get s() {
      return p.s;
    },
    get topology() {
      return p.topology;
    },
    get natsUrl() {
      return p.natsUrl;
    },
  };
}
