import { z } from 'zod';
import { ValidationError } from '../db/errors.js';
import { parseOrThrow, QueueName } from '../schemas.js';
import { resolveBackoff, type BackoffOptions, type ResolvedBackoff } from '../queue/retry.js';
import type { Handler, Handlers } from './run-attempt.js';
import type { Job } from '../model/job.js';
import type { SchedulerOptions } from '../schedule/options.js';
import type { ExecutorsOptions } from '../executors/executor-set.js';

export interface WorkerOptions {
  /** Queues to claim from. @default ['default'] */
  queues?: string[];
  /** Jobs run at once by this worker (claims never exceed free slots). @default 10 */
  concurrency?: number;
  /** `{ [jobName]: async (input, ctx) => output }` */
  handlers?: Handlers;
  /** Resolves a handler for jobs no entry in `handlers` matches (the worker app runs process jobs this way). */
  resolveHandler?: (job: Job) => Handler | undefined;
  /**
   * How jobs that name a definition run: handler, process and container executors, and the
   * resources this worker offers one job. The worker records its kinds and resources on its
   * `workers` row and claims only jobs it can run. @default handler and process on, container off
   */
  executors?: ExecutorsOptions;
  /** Fallback poll when no NOTIFY arrives. @default 1000 */
  pollIntervalMs?: number;
  /** How often this worker's `workers` row is touched. @default 2000 */
  heartbeatIntervalMs?: number;
  /** A worker whose heartbeat is older than this is dead and its jobs are rescued. @default 6000 */
  staleAfterMs?: number;
  /** How long stop() lets running jobs finish before releasing them. @default 10000 */
  shutdownGraceMs?: number;
  /** After an attempt's signal fires, how long the handler has before it is abandoned. @default 1000 */
  timeoutGraceMs?: number;
  /** Most outcomes per completion statement. @default 500 */
  completionBatchSize?: number;
  /** How long an outcome waits for others before its batch is written. @default 2 */
  completionFlushMs?: number;
  /** Most jobs per claim statement. @default 500 */
  claimBatchSize?: number;
  /** Claim statements in flight at once (the next batch is claimed while one runs). @default 2 */
  claimsInFlight?: number;
  /**
   * Under a backlog, a worker of one queue claims from just after the last job it claimed instead
   * of from the head of the queue index, and scans from the head at least this often (and at once
   * whenever a claim comes back short). Why: while any transaction holds an old snapshot, the
   * index entries of every job claimed since cannot be cleaned, and a claim from the head walks
   * all of them — steady-state throughput fell by half under a long REPEATABLE READ transaction.
   * The cost: under a backlog, a job that sorts before the worker's position (a more urgent
   * priority, or an older run_at that just became due) waits up to this long. 0 = always scan
   * from the head (strict order, no cursor). @default 1000
   */
  claimRescanMs?: number;
  /** Retry backoff. @default { baseMs: 1000, maxMs: 3600000, jitter: 0.5 } */
  backoff?: BackoffOptions;
  /** Take part in leader election for rescue, promotion and retention. @default true */
  maintenance?: boolean;
  /** Leader's promotion pass (scheduled/retryable → available) interval. @default 250 */
  promoteIntervalMs?: number;
  /** Leader's rescue pass interval. @default 1000 */
  rescueIntervalMs?: number;
  /** Finished single jobs, and finished DAG runs with their nodes and jobs, older than this are deleted with their history. @default 7 days */
  retentionMs?: number;
  /** Run the event relay (outbox → NATS) in this worker when NATS is configured; one relay leads at a time. @default true */
  relay?: boolean;
  /**
   * Run the cron scheduler here; one worker leads it at a time (the `scheduler` lease). An
   * object tunes it (tick interval, how far ahead runs are materialised, …). @default true
   */
  scheduler?: boolean | Omit<SchedulerOptions, 'id' | 'now'>;
  /** Leader lease time to live. @default 3000 */
  leaseTtlMs?: number;
  /** Stable worker id (defaults to hostname-pid-random). */
  id?: string;
  /** Install SIGTERM/SIGINT handlers: the first stops gracefully, the second forces. @default false */
  handleSignals?: boolean;
}

const Schema = z.strictObject({
  queues: z.array(QueueName).min(1, 'give at least one queue').default(['default']),
  concurrency: z.number().int().min(1).max(10_000).default(10),
  handlers: z
    .record(
      z.string(),
      z.custom<Handler>((v) => typeof v === 'function', 'each handler must be a function'),
    )
    .default({}),
  resolveHandler: z.custom<(job: Job) => Handler | undefined>((v) => typeof v === 'function').optional(),
  // Checked field by field by ExecutorSet.
  executors: z.custom<ExecutorsOptions>((v) => typeof v === 'object' && v !== null, 'executors must be an object').optional(),
  pollIntervalMs: z.number().int().min(10).default(1000),
  heartbeatIntervalMs: z.number().int().min(10).default(2000),
  staleAfterMs: z.number().int().min(30).default(6000),
  shutdownGraceMs: z.number().int().min(0).default(10_000),
  timeoutGraceMs: z.number().int().min(0).default(1000),
  completionBatchSize: z.number().int().min(1).max(5000).default(500),
  completionFlushMs: z.number().min(0).max(1000).default(2),
  claimBatchSize: z.number().int().min(1).max(5000).default(500),
  claimsInFlight: z.number().int().min(1).max(16).default(2),
  claimRescanMs: z.number().int().min(0).default(1000),
  backoff: z
    .strictObject({
      baseMs: z.number().min(0).optional(),
      maxMs: z.number().min(0).optional(),
      jitter: z.number().min(0).max(1).optional(),
    })
    .optional(),
  maintenance: z.boolean().default(true),
  promoteIntervalMs: z.number().int().min(10).default(250),
  rescueIntervalMs: z.number().int().min(10).default(1000),
  retentionMs: z
    .number()
    .int()
    .min(0)
    .default(7 * 24 * 3600 * 1000),
  relay: z.boolean().default(true),
  scheduler: z.union([z.boolean(), z.record(z.string(), z.unknown())]).default(true),
  leaseTtlMs: z.number().int().min(100).default(3000),
  id: z.string().min(1).max(200).optional(),
  handleSignals: z.boolean().default(false),
});

export type ResolvedWorkerOptions = Omit<z.output<typeof Schema>, 'backoff'> & { backoff: ResolvedBackoff };

/** Validates and fills defaults once, at the boundary. */
export function resolveWorkerOptions(o: WorkerOptions): ResolvedWorkerOptions {
  const parsed = parseOrThrow(Schema, o);
  if (parsed.staleAfterMs <= parsed.heartbeatIntervalMs) {
    throw ValidationError.field(
      'staleAfterMs',
      `must be greater than heartbeatIntervalMs (${parsed.heartbeatIntervalMs}); 3× the heartbeat interval is a good value`,
    );
  }
  return { ...parsed, backoff: resolveBackoff(parsed.backoff) };
}
