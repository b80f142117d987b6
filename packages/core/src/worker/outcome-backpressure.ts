import type { WorkerStats } from './deps.js';

/** Completion statements a worker has running at once (the completer's `maxInFlight`). */
export const OUTCOME_WRITES_IN_FLIGHT = 2;

/**
 * Which slots the claim loop counts as taken: running attempts, plus unwritten outcomes beyond an
 * allowance. A handler's slot is free as soon as it returns, so the next batch runs while the
 * last one's outcomes are written; but when completion writes stall (a lock, a slow disk, a
 * failing server) a worker without a bound would keep claiming and running jobs whose results
 * pile up in memory, unwritten. The allowance is what the completer writes at once
 * (OUTCOME_WRITES_IN_FLIGHT full batches), or one set of slots if that is more: measured, an
 * allowance of one set of slots (200) cost a third of the drain at concurrency 200, because
 * claims then wait for writes instead of overlapping them (bench/README.md, "Worker backpressure").
 *
 * So running attempts, claims in flight and unwritten outcomes together stay ≤ concurrency +
 * allowance (test/worker-backpressure.test.ts).
 */
export class OutcomeBackpressure {
  readonly allowance: number;
  /** Claiming is held back by unwritten outcomes; the next written batch wakes the claim loop. */
  private behind = false;

  constructor(
    { concurrency, completionBatchSize }: { concurrency: number; completionBatchSize: number },
    /** Outcomes not yet written (the completer's backlog). */
    private readonly unwritten: () => number,
    /** `backpressure` counts the episodes. */
    private readonly stats: WorkerStats,
    /** Once per episode: claiming paused (the worker's `backpressure` event). */
    private readonly paused: (e: { pendingOutcomes: number; running: number }) => void,
  ) {
    this.allowance = Math.max(concurrency, OUTCOME_WRITES_IN_FLIGHT * completionBatchSize);
  }

  /** Slots taken, given the attempts running now. */
  taken(running: number): number {
    const over = this.unwritten() - this.allowance;
    if (over <= 0) return running;
    if (!this.behind) {
      this.behind = true;
      this.stats.backpressure++;
      this.paused({ pendingOutcomes: this.unwritten(), running });
    }
    return running + over;
  }

  /** A batch of outcomes left the backlog; true when that freed slots (the claim loop should look again). */
  written(): boolean {
    if (!this.behind) return false;
    if (this.unwritten() <= this.allowance) this.behind = false;
    return true;
  }
}
