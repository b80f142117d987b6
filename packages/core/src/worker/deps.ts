import type pg from 'pg';
import type { Logger } from 'pino';
import type { NamedStatements } from '../queue/claim-groups-trip.js';
import type { TransitionHook } from '../queue/transitions.js';

/** What the worker needs from the Jobline instance that made it. */
export interface WorkerDeps {
  pool: pg.Pool;
  connectionString: string;
  applicationName: string;
  schema: string;
  /** Quoted schema for SQL. */
  s: string;
  jobsChannel: string;
  cancelChannel: string;
  logger: Logger;
  maxOutputBytes: number;
  version: string;
  /** Runs in the completing transaction for transitions of DAG jobs (DESIGN §4): DAG advancement, injected. */
  onTransitions?: TransitionHook;
  /** NATS for core wake-ups (with `natsWakeups`). */
  natsUrl?: string;
  /** URL for LISTEN: undefined = connectionString, null = none possible (a transaction pooler without direct URL). */
  listenUrl?: string | null;
  listenConfig?: pg.ClientConfig;
  /** Subscribe to core NATS wake-ups (events/wakeups.ts); needs natsUrl. */
  natsWakeups?: boolean;
  /** Whether the pool may keep prepared statements (not behind a transaction pooler); absent = yes. */
  statements?: NamedStatements;
}

export interface WorkerStats {
  claimed: number;
  claimBatches: number;
  completed: number;
  failed: number;
  retried: number;
  timedOut: number;
  /** Late outcomes refused by the fence (the attempt had been rescued, cancelled or released). */
  rejected: number;
  released: number;
  /** Times claiming paused because unwritten outcomes exceeded their allowance (outcome-backpressure.ts). */
  backpressure: number;
}

export const emptyWorkerStats = (): WorkerStats => ({
  claimed: 0,
  claimBatches: 0,
  completed: 0,
  failed: 0,
  retried: 0,
  timedOut: 0,
  rejected: 0,
  released: 0,
  backpressure: 0,
});
