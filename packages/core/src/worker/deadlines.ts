import type { Attempt } from './run-attempt.js';

/**
 * The one timer behind every attempt's deadlines (an attempt has no timer of its own:
 * run-attempt.ts). It is set for the earliest deadline of the running attempts.
 */
export class Deadlines {
  private timer: NodeJS.Timeout | undefined;
  private at = Infinity;

  constructor(private readonly running: ReadonlyMap<number, Attempt>) {}

  /** Sets the timer for `at` unless it is already set for earlier. */
  arm(at: number): void {
    if (at >= this.at) return;
    clearTimeout(this.timer);
    this.at = at;
    this.timer = setTimeout(() => this.sweep(), Math.max(0, at - performance.now()));
  }

  /**
   * Fires the signals of attempts past their timeout and abandons those past the hard deadline,
   * then sets the timer for the next deadline. Attempts that finished or heartbeated meanwhile
   * only cost a look (at most `concurrency` of them).
   */
  private sweep(): void {
    this.timer = undefined;
    this.at = Infinity;
    const now = performance.now();
    let next = Infinity;
    for (const a of [...this.running.values()]) {
      a.checkDeadlines(now);
      if (this.running.get(a.job.id) === a) next = Math.min(next, a.nextDeadline);
    }
    if (next < Infinity) this.arm(next);
  }

  clear(): void {
    clearTimeout(this.timer);
  }
}
