import { ValidationError } from '../db/errors.js';
import type { Job } from '../db/rows.js';
import type { Outcome } from '../queue/complete.js';
import { backoffDelayMs, type ResolvedBackoff } from '../queue/retry.js';
import { serialiseJson } from '../schemas.js';
import { errorRecord, type AttemptResult } from './run-attempt.js';

/**
 * Turns an attempt's result into the row changes: completed; or, on error, retryable with a
 * backoff delay while attempts remain and the error is retryable; else failed for good.
 * An output that cannot be stored fails the attempt (without retry: it would fail again).
 */
export function toOutcome(job: Job, r: AttemptResult, backoff: ResolvedBackoff, maxOutputBytes: number): Outcome {
  const base = { jobId: job.id, attempt: job.attempt, durationMs: r.durationMs, inDag: job.dagRunId !== undefined };
  if (r.ok) {
    try {
      const outputJson = serialiseJson(r.output, 'output', maxOutputBytes);
      return { ...base, nextState: 'completed', executionState: 'completed', outputJson, errorJson: null, retryDelayMs: null };
    } catch (err) {
      if (!(err instanceof ValidationError)) throw err;
      const error = { ...errorRecord(err), retryable: false };
      return { ...base, nextState: 'failed', executionState: 'failed', outputJson: null, errorJson: JSON.stringify(error), retryDelayMs: null };
    }
  }
  const retry = r.retryable && job.attempt < job.maxAttempts;
  const error = { ...r.error, message: String(r.error.message).slice(0, 10_000) };
  return {
    ...base,
    nextState: retry ? 'retryable' : 'failed',
    executionState: r.timedOut ? 'timed_out' : 'failed',
    outputJson: null,
    errorJson: JSON.stringify(error),
    retryDelayMs: retry ? backoffDelayMs(job.attempt, backoff) : null,
  };
}
