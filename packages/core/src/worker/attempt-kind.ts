import type { JobError } from '../model/job.js';

/** What became of an attempt, as the worker reports it (the `outcome` event; metrics count these). */
export const AttemptKind = {
  Completed: 'completed',
  /** Failed; another attempt follows after its backoff. */
  Retry: 'retry',
  /** Failed for good (no attempts left, or not retryable). */
  Failed: 'failed',
  /** Ended by its timeout; `retrying` tells whether another attempt follows. */
  Timeout: 'timeout',
  /** Cancelled (or rescued and re-claimed) while running: the database already has its end. */
  Cancelled: 'cancelled',
  /** Released by a stopping worker: no attempt used, another worker takes it. */
  Shutdown: 'shutdown',
  /** Given back by a worker that cannot run its definition (e.g. no container engine). */
  Released: 'released',
} as const;
export type AttemptKind = (typeof AttemptKind)[keyof typeof AttemptKind];

/** An attempt ended without writing its own outcome (cancel, shutdown or release already did). */
export type SettledBy = typeof AttemptKind.Cancelled | typeof AttemptKind.Shutdown | typeof AttemptKind.Released;

/** The typed outcome of one attempt: the `outcome` event's third argument. */
export type AttemptReport =
  | { kind: typeof AttemptKind.Completed; durationMs: number }
  | { kind: typeof AttemptKind.Retry | typeof AttemptKind.Failed; durationMs: number; error: JobError }
  | { kind: typeof AttemptKind.Timeout; durationMs: number; error: JobError; retrying: boolean }
  | { kind: SettledBy; durationMs: number };
