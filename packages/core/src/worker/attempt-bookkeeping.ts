import type { Logger } from 'pino';
import { JobState } from '../model/states.js';
import type { AttemptOutcome } from '../observability/tracing-consumer.js';
import type { WorkerStats } from './deps.js';
import type { Outcome } from '../queue/complete.js';
import type { Attempt, AttemptResult } from './run-attempt.js';
import type { NodeTraceContexts } from './trace-contexts.js';

/**
 * What the worker records locally once an attempt's outcome is known, before the outcome is
 * queued for writing: its counters, the end of the attempt's span (a DAG node's completed trace
 * context is kept for its children), and a warning for an attempt that did not complete.
 */
export function recordOutcome(
  stats: WorkerStats,
  nodeTraces: NodeTraceContexts,
  log: Logger,
  attempt: Attempt,
  outcome: Outcome,
  r: AttemptResult,
): void {
  const { job } = attempt;
  if (outcome.nextState === JobState.completed) stats.completed++;
  else if (outcome.nextState === JobState.retryable) stats.retried++;
  else stats.failed++;
  const timedOut = outcome.executionState === 'timed_out';
  if (timedOut) stats.timedOut++;
  if (attempt.trace) {
    attempt.trace.end(timedOut ? 'timed_out' : (outcome.nextState as AttemptOutcome), r.ok ? undefined : r.error);
    if (job.dagRunId !== undefined && outcome.nextState === JobState.completed)
      nodeTraces.remember(job.id, job.attempt, attempt.trace.traceparent);
  }
  if (outcome.nextState !== JobState.completed) {
    (attempt.context?.logger ?? log).warn(
      { err: outcome.errorJson && JSON.parse(outcome.errorJson), next: outcome.nextState },
      'job attempt failed',
    );
  }
}
