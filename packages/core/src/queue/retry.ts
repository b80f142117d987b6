import { backoffDelay } from '../lib/backoff.js';

/**
 * Retry policy: exponential backoff with full jitter (AWS's "full jitter" variant keeps retry
 * storms from synchronising). Delay for attempt n (1-based, the attempt that just failed):
 * random in [base·2^(n-1)/2, base·2^(n-1)], capped at `maxMs`.
 */
export interface BackoffOptions {
  /** @default 1000 */
  baseMs?: number;
  /** @default 3_600_000 (one hour) */
  maxMs?: number;
  /** Fraction of the delay that is randomised. @default 0.5 */
  jitter?: number;
}

export interface ResolvedBackoff {
  baseMs: number;
  maxMs: number;
  jitter: number;
}

export function resolveBackoff(o: BackoffOptions = {}): ResolvedBackoff {
  return { baseMs: o.baseMs ?? 1000, maxMs: o.maxMs ?? 3_600_000, jitter: o.jitter ?? 0.5 };
}

export function backoffDelayMs(attempt: number, b: ResolvedBackoff, random = Math.random): number {
  // Step attempt−1: attempt 1 waits baseMs (default 1 s), doubling to maxMs (1 h); jitter 0.5 = equal jitter.
  return backoffDelay(attempt - 1, { baseMs: b.baseMs, maxMs: b.maxMs, jitter: b.jitter }, random);
}

// Lives with the other errors (db/errors.ts) so executors need not import the queue layer.
export { NonRetryableError } from '../db/errors.js';
