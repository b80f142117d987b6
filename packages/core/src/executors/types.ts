/**
 * One interface behind every way a job runs (DESIGN §1, `src/executors/`). The worker resolves
 * the job's definition, picks the executor registered for its `executor` kind, and calls `run`
 * with the attempt's context: the AbortSignal in `ctx.signal` is the cancel path (timeout, cancel,
 * shutdown, lost fence), and an executor must stop its work when it fires.
 */
import type { Logger } from 'pino';
import type { Definition } from '../definitions/schema.js';
import type { Job } from '../model/job.js';
import { ExecutorKind } from '../model/states.js';

/**
 * What an executor gets of the attempt: the worker's `JobContext` satisfies it. Declared here so
 * that executors sit below the worker in the import graph (no cycle through `worker/`).
 */
export interface ExecutionContext {
  job: Job;
  /** Fires on timeout, cancel, shutdown or a lost fence: stop the work and reject. */
  signal: AbortSignal;
  logger: Logger;
}

export { ExecutorKind };
export const EXECUTOR_KINDS: readonly ExecutorKind[] = Object.values(ExecutorKind);

/** The most one job may ask of this worker (a definition's `resources.cpu` / `resources.memoryMb`). */
export interface WorkerResources {
  /** CPU cores. */
  cpu?: number;
  memoryMb?: number;
}

/** What an executor reports about itself; the worker records kinds and resources on its `workers` row. */
export interface ExecutorCapabilities {
  kind: ExecutorKind;
  /** Free-form facts for humans and `/readyz`-style checks (engine version, socket path, …). */
  details?: Record<string, string | number | boolean>;
}

export interface Executor {
  readonly kind: ExecutorKind;
  /** Runs one attempt; resolves with the job output, rejects with the failure. Must honour `ctx.signal`. */
  run(def: Definition, input: unknown, ctx: ExecutionContext): Promise<unknown>;
  capabilities(): ExecutorCapabilities;
  /** Called once before the worker claims (e.g. the container executor checks the engine and reaps leftovers). */
  start?(hooks: ExecutorHooks): Promise<void>;
  /** Called from the leader's rescue pass, after jobs of dead workers were rescued. */
  afterRescue?(hooks: ExecutorHooks): Promise<void>;
  /** Called when the worker stops, after running attempts were aborted (e.g. waits for their containers' removal). */
  stop?(): Promise<void>;
}

/** What an executor may ask of the worker that hosts it. */
export interface ExecutorHooks {
  workerId: string;
  /** Ids of workers that are alive now (fresh heartbeat, not stopped). */
  liveWorkerIds(): Promise<Set<string>>;
  /** Labels scope the executor's resources to this database and schema (two deployments on one engine never touch each other's containers). */
  scope: string;
}

/**
 * What a worker can run (its executor kinds and the most resources one job may ask of it). With
 * a filter, a claim skips jobs whose definition needs another kind or more resources. Workers
 * use it only while such definitions exist (`needsClaimFilter`, queue/claim.ts), so a deployment without them
 * claims with the unchanged statements.
 */
export interface ClaimFilter {
  kinds: readonly string[];
  cpu?: number;
  memoryMb?: number;
}
