import { backoffDelay } from '../lib/backoff.js';

/** What the claim loop needs from its worker. */
export interface ClaimLoopHost {
  concurrency: number;
  claimBatchSize: number;
  claimsInFlight: number;
  pollIntervalMs: number;
  /** Jobs running now (their slots are taken). */
  running(): number;
  /** Claims up to `want` jobs and starts them; resolves with how many were claimed, rejects when the claim failed. */
  claim(want: number): Promise<number>;
  /** Releases rows a failed claim may have committed for us; rejects to be tried again shortly. */
  releaseOrphans(): Promise<void>;
  warn(err: unknown, msg: string): void;
}

/**
 * The loop that keeps local slots full: up to `claimsInFlight` claim statements running while
 * slots are free. With one, the worker idles for a claim's round trip after every batch; with
 * two, the next batch is being claimed while the previous one runs. Slots of in-flight claims are
 * reserved. Between claims it sleeps until woken (a NOTIFY, a finished attempt) or its poll.
 */
export class ClaimLoop {
  private hasWork = true;
  /** Wake-ups with work (NOTIFYs for our queues) so far; a claim compares it before and after. */
  private workWakes = 0;
  private reservedSlots = 0;
  private failures = 0;
  private backoffUntil = 0;
  /** A claim failed: its rows may have committed with the reply lost (see Worker.releaseOrphans). */
  private orphanCheckDue = false;
  private stopping = false;
  private wakeLoop: (() => void) | undefined;
  private done: Promise<void> = Promise.resolve();

  constructor(private readonly host: ClaimLoopHost) {}

  start(): void {
    this.done = this.run();
  }

  /** Stops claiming; resolves when the claims in flight have ended. */
  stop(): Promise<void> {
    this.stopping = true;
    this.wake(false);
    return this.done;
  }

  /** Ends the current sleep; `work` = there may be jobs to claim (a NOTIFY for our queue). */
  wake(work: boolean): void {
    if (work) {
      this.hasWork = true;
      this.workWakes++;
    }
    this.wakeLoop?.();
  }

  private async run(): Promise<void> {
    const h = this.host;
    const inFlight = new Set<Promise<void>>();
    while (!this.stopping) {
      const free = h.concurrency - h.running() - this.reservedSlots;
      const backingOff = this.backoffUntil > Date.now();
      if (this.orphanCheckDue && inFlight.size === 0 && !backingOff) {
        // No claim is in flight while this runs, so every running row of ours that is not an
        // attempt we started came from a claim whose reply was lost.
        this.orphanCheckDue = false;
        await h.releaseOrphans().catch((err) => {
          this.orphanCheckDue = true;
          this.backoffUntil = Date.now() + 500;
          h.warn(err, 'looking for jobs of a lost claim reply failed; trying again shortly');
        });
        continue;
      }
      if (free > 0 && this.hasWork && !backingOff && inFlight.size < h.claimsInFlight) {
        const want = Math.min(free, h.claimBatchSize);
        this.reservedSlots += want;
        const p: Promise<void> = this.claimBatch(want).finally(() => {
          this.reservedSlots -= want;
          inFlight.delete(p);
          this.wake(false);
        });
        inFlight.add(p);
        continue;
      }
      const wait = backingOff ? this.backoffUntil - Date.now() : h.pollIntervalMs * (0.9 + Math.random() * 0.2);
      const polled = await this.sleepOrWake(wait);
      if (polled) this.hasWork = true;
    }
    await Promise.all(inFlight);
  }

  private async claimBatch(want: number): Promise<void> {
    const wakesBefore = this.workWakes;
    let got: number;
    try {
      got = await this.host.claim(want);
      this.failures = 0;
    } catch (err) {
      this.host.warn(err, 'claiming failed; backing off');
      this.orphanCheckDue = true;
      this.backoffUntil = Date.now() + backoffDelay(this.failures++, { baseMs: 100, maxMs: 5000 }); // 100 ms doubling to 5 s
      return;
    }
    // A full batch means more is waiting; a short (or empty) one means the queue is drained for now
    // — unless a NOTIFY came while the claim ran: its job may have committed after the claim's
    // snapshot, and forgetting the wake-up would leave that job to the next poll (a second's wait).
    this.hasWork = got === want || this.workWakes !== wakesBefore;
  }

  /** Resolves true when the poll interval elapsed, false when woken earlier. */
  private sleepOrWake(ms: number): Promise<boolean> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.wakeLoop = undefined;
        resolve(true);
      }, ms);
      this.wakeLoop = () => {
        clearTimeout(timer);
        this.wakeLoop = undefined;
        resolve(false);
      };
    });
  }
}
