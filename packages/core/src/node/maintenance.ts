import type pg from 'pg';
import type { Logger } from 'pino';
import { withTransaction } from '../db/pool.js';
import {
  DAG_RETENTION_BATCH,
  JOB_RETENTION_BATCH,
  WINDOW_PRUNE_BATCH,
  deleteFinishedDagRuns,
  deleteFinishedJobs,
  deleteGoneWorkers,
  promoteDueJobs,
  pruneEnqueueWindows,
  pruneRateWindows,
  rescueLostJobs,
} from '../queue/maintenance-sql.js';
import type { TransitionHook } from '../queue/transitions.js';
import type { ResolvedWorkerOptions } from '../worker/options.js';
import { LeaderService } from './leader-service.js';

export const MAINTENANCE_LEASE = 'maintenance';

/** What the maintenance passes need. */
export interface MaintenanceDeps {
  pool: pg.Pool;
  /** Quoted schema, for SQL. */
  s: string;
  jobsChannel: string;
  logger: Logger;
  /** DAG advancement for nodes the rescuer fails for good (same transaction). */
  onTransitions?: TransitionHook;
  /** After each rescue pass (the container executor reaps containers of dead workers here). */
  afterRescue?: () => Promise<void>;
  onError: (err: unknown, what: string) => void;
}
import { JobState } from '../model/states.js';

const RETENTION_EVERY_MS = 60_000;
/** Worker rows are kept a day after their last heartbeat, for `jobline status` and forensics. */
const GONE_WORKER_ROWS_AFTER_MS = 24 * 3600_000;

/**
 * The leader's passes. Every worker competes for the `maintenance` lease; the holder promotes
 * due scheduled/retryable jobs, rescues the jobs of dead workers, and applies retention. Each
 * pass is bounded and loops only while it keeps finding full batches. Retention also prunes
 * rate and enqueue windows nobody reads any more.
 */
export class Maintenance extends LeaderService {
  private timers: NodeJS.Timeout[] = [];
  private busy = new Set<string>();

  constructor(
    private readonly deps: MaintenanceDeps,
    holder: string,
    private readonly o: Pick<
      ResolvedWorkerOptions,
      'leaseTtlMs' | 'promoteIntervalMs' | 'rescueIntervalMs' | 'retentionMs' | 'staleAfterMs'
    >,
  ) {
    super({ db: deps.pool, s: deps.s, name: MAINTENANCE_LEASE, holder, ttlMs: o.leaseTtlMs });
  }

  protected lead(): void {
    this.deps.logger.info('became maintenance leader');
    this.every(this.o.promoteIntervalMs, 'promote', () => this.promote());
    this.every(this.o.rescueIntervalMs, 'rescue', () => this.rescue());
    this.every(RETENTION_EVERY_MS, 'retention', () => this.retention());
    // Caught like the interval passes: a first rescue that fails (a connection timing out just
    // as this worker takes the lease) crashed the process with an unhandled rejection, found by
    // the network-fault scenario (test/faults/network.test.ts, half-open).
    this.rescue().catch((err) => this.deps.onError(err, 'maintenance pass rescue failed'));
  }

  protected follow(): void {
    this.timers.forEach(clearInterval);
    this.timers = [];
  }

  private every(ms: number, name: string, fn: () => Promise<unknown>): void {
    const t = setInterval(async () => {
      if (this.busy.has(name)) return; // a slow pass is never overlapped by the next
      this.busy.add(name);
      try {
        await fn();
      } catch (err) {
        this.deps.onError(err, `maintenance pass ${name} failed`);
      } finally {
        this.busy.delete(name);
      }
    }, ms);
    t.unref();
    this.timers.push(t);
  }

  async promote(): Promise<void> {
    const limit = 5000;
    for (let i = 0; i < 20; i++) {
      const queues = await promoteDueJobs(this.deps.pool, this.deps.s, this.deps.jobsChannel, limit);
      if (queues.length === 0) return;
    }
  }

  /** Rescue runs in a transaction with DAG advancement, so a node that failed for good applies its run's policy. */
  async rescue(): Promise<number> {
    let total = 0;
    for (;;) {
      const n = await withTransaction(this.deps.pool, async (tx) => {
        const rescued = await rescueLostJobs(tx, this.deps.s, this.o.staleAfterMs);
        const finished = rescued.filter((r) => r.dagRunId !== undefined && r.state === JobState.failed);
        if (finished.length && this.deps.onTransitions) await this.deps.onTransitions(tx, finished);
        return rescued.length;
      });
      total += n;
      if (n < 1000) break;
    }
    if (total) this.deps.logger.warn({ rescued: total }, 'rescued jobs of workers that stopped heartbeating');
    if (this.deps.afterRescue)
      await this.deps.afterRescue().catch((err) => this.deps.onError(err, 'cleaning up after the rescue pass failed'));
    return total;
  }

  async retention(): Promise<void> {
    while ((await deleteFinishedJobs(this.deps.pool, this.deps.s, this.o.retentionMs)) === JOB_RETENTION_BATCH);
    while ((await deleteFinishedDagRuns(this.deps.pool, this.deps.s, this.o.retentionMs)) === DAG_RETENTION_BATCH);
    await deleteGoneWorkers(this.deps.pool, this.deps.s, GONE_WORKER_ROWS_AFTER_MS);
    // Rate and throttle/debounce windows are one row per queue and group or key, reused while in
    // use; these passes delete the ones no claim or enqueue reads any more (maintenance-sql.ts), so
    // a queue with a million one-off tenants or keys does not keep a million rows.
    while ((await pruneRateWindows(this.deps.pool, this.deps.s)) === WINDOW_PRUNE_BATCH);
    while ((await pruneEnqueueWindows(this.deps.pool, this.deps.s)) === WINDOW_PRUNE_BATCH);
  }
}
