import type pg from 'pg';
import type { Logger } from 'pino';
import type { Queryable } from '../db/pool.js';
import type { EnqueueResult } from '../queue/enqueue.js';
import type { JobSpec } from '../schemas.js';
import type { SubmittedDag } from '../dag/engine.js';

/**
 * What the schedule module needs from the Jobline instance. A structural interface rather than
 * the Jobline class, so that schedule/ sits below jobline.ts and worker/ in the import graph.
 */
export interface ScheduleHost {
  pool: pg.Pool;
  schema: string;
  /** Quoted schema, for SQL. */
  s: string;
  connectionString: string;
  /** URL for LISTEN: undefined = connectionString, null = none possible (topology.ts). */
  listenUrl?: string | null;
  /** pg settings of LISTEN connections (timeouts, keepalive). */
  listenConfig?: pg.ClientConfig;
  readonly applicationName: string;
  logger: Logger;
  /** Largest job input, as JSON bytes (templates are checked against it when written). */
  maxInputBytes: number;
  /** NOTIFY channel on which running workers are told to abort a cancelled job. */
  cancelChannel: string;
  /** jl.insertJobs inside the caller's transaction (definitions applied, workers notified at commit). */
  insertJobs(jobs: JobSpec[], tx: Queryable): Promise<EnqueueResult[]>;
  /** jl.submitDag inside the caller's transaction. */
  submitDag(spec: unknown, tx: Queryable): Promise<SubmittedDag>;
  /** jl.cancelDag (its own transactions). */
  cancelDag(id: number): Promise<unknown>;
}

/** Channel on which schedule, constraint and action changes tell the scheduler to rebuild its index. */
export const schedulesChannel = (schema: string) => `${schema}_schedules`;
