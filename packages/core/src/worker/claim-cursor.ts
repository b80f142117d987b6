import type { ClaimCursor } from '../queue/claim.js';
import type { Job } from '../model/job.js';

/**
 * Where the worker's next claim starts (option `claimRescanMs`): after a full batch the next claim
 * continues just past its last job instead of descending the claim index from the head again;
 * every `claimRescanMs` (and after any short batch) it goes back to the head, where jobs that sort
 * earlier (a new higher priority, a retry whose time came) are found. Only for a worker of one
 * queue without a concurrency limit: with several queues or a limit the cursor would skip work.
 */
export class ClaimCursorKeeper {
  private cursor: ClaimCursor | undefined;
  private lastHeadScan = 0;

  constructor(
    private readonly rescanMs: number,
    private readonly singleQueue: boolean,
  ) {}

  /** The cursor for the next claim, or undefined when it must scan from the head. */
  next(limitedQueues: readonly string[]): ClaimCursor | undefined {
    const after =
      !this.cursor ||
      this.rescanMs === 0 ||
      !this.singleQueue ||
      limitedQueues.length ||
      performance.now() - this.lastHeadScan >= this.rescanMs
        ? undefined
        : this.cursor;
    if (!after) this.lastHeadScan = performance.now();
    return after;
  }

  /** After a claim of `want` jobs returned `jobs`: a full batch means more waits just past its last job. */
  claimed(jobs: readonly Job[], want: number): void {
    const last = jobs.length === want ? jobs[jobs.length - 1] : undefined;
    this.cursor = last && { priority: last.priority, runAt: last.runAt, id: last.id };
  }
}
