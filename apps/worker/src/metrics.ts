import { AttemptKind, MetricsRegistry, registerProcessMetrics, type AttemptReport } from '@jobline/core/observability';
import type { Job, Worker } from '@jobline/core';

const BATCH_BUCKETS = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000];
/** How many groups get their own label in the per-group metrics (cardinality bound). */
export const GROUP_LABELS_MAX = 50;

/**
 * Worker metrics from the core Worker's events: claims per queue and batch sizes, outcomes per
 * queue (completed, retried, failed for good, timed out, interrupted by cancel or shutdown),
 * handler duration, queue wait (run_at → started_at, both database clock), in-flight jobs.
 */
export function createWorkerMetrics(worker: Worker): MetricsRegistry {
  const r = new MetricsRegistry();
  registerProcessMetrics(r);
  const claimed = r.counter('jobline_worker_jobs_claimed_total', 'Jobs claimed, by queue.', ['queue']);
  const completed = r.counter('jobline_worker_jobs_completed_total', 'Attempts that completed their job, by queue.', ['queue']);
  const retried = r.counter('jobline_worker_jobs_retried_total', 'Failed attempts that will be retried, by queue.', ['queue']);
  const failed = r.counter('jobline_worker_jobs_failed_total', 'Jobs failed for good (no attempts left or not retryable), by queue.', [
    'queue',
  ]);
  const timedOut = r.counter('jobline_worker_jobs_timed_out_total', 'Attempts ended by their timeout, by queue.', ['queue']);
  const interrupted = r.counter(
    'jobline_worker_jobs_interrupted_total',
    'Attempts ended by cancel, shutdown or a release (a worker that cannot run the job), by queue and reason.',
    ['queue', 'reason'],
  );
  const rejected = r.counter(
    'jobline_worker_outcomes_rejected_total',
    'Late outcomes refused by the fence (attempt rescued, cancelled or released meanwhile).',
  );
  const warnings = r.counter('jobline_worker_warnings_total', 'Recoverable errors (claim, heartbeat, completion write retries).');
  const duration = r.histogram('jobline_worker_handler_duration_seconds', 'Attempt duration, by queue and outcome.', ['queue', 'outcome']);
  const wait = r.histogram('jobline_worker_queue_wait_seconds', 'Time from a job being due (run_at) to its attempt starting, by queue.', [
    'queue',
  ]);
  const batch = r.histogram('jobline_worker_claim_batch_size', 'Jobs per claim statement.', [], BATCH_BUCKETS);
  // Per group (issue 15), bounded: a tenant id per label would grow without end, so only the first
  // GROUP_LABELS_MAX groups this process claims from are named; the rest count as "_other".
  const groupClaimed = r.counter(
    'jobline_worker_group_jobs_claimed_total',
    `Jobs claimed, by queue and group (the first ${GROUP_LABELS_MAX} groups this process sees by name, the rest as "_other").`,
    ['queue', 'group'],
  );
  const named = new Set<string>();
  const groupLabel = (g: string) => (named.has(g) || (named.size < GROUP_LABELS_MAX && named.add(g)) ? g : '_other');
  r.gauge('jobline_worker_in_flight', 'Jobs running in this worker now.', [], (set) => set({}, worker.inFlight));
  r.gauge('jobline_worker_concurrency', 'Configured concurrency of this worker.', [], (set) => set({}, worker.options.concurrency));

  worker.on('claimed', (jobs: Job[]) => {
    batch.observe({}, jobs.length);
    for (const j of jobs) {
      claimed.inc({ queue: j.queue });
      if (j.group !== undefined) groupClaimed.inc({ queue: j.queue, group: groupLabel(j.group) });
      if (j.startedAt) wait.observe({ queue: j.queue }, Math.max(0, (j.startedAt.getTime() - j.runAt.getTime()) / 1000));
    }
  });
  // The worker's typed report (AttemptKind), never error class names.
  worker.on('outcome', (job: Job, _result: unknown, report: AttemptReport) => {
    const q = { queue: job.queue };
    const seconds = report.durationMs / 1000;
    switch (report.kind) {
      case AttemptKind.Completed:
        completed.inc(q);
        duration.observe({ queue: job.queue, outcome: 'completed' }, seconds);
        return;
      case AttemptKind.Cancelled:
      case AttemptKind.Shutdown:
      case AttemptKind.Released:
        interrupted.inc({
          queue: job.queue,
          reason: report.kind === AttemptKind.Cancelled ? 'cancelled' : report.kind === AttemptKind.Shutdown ? 'shutdown' : 'released',
        });
        return;
      case AttemptKind.Timeout:
        timedOut.inc(q);
        (report.retrying ? retried : failed).inc(q);
        duration.observe({ queue: job.queue, outcome: 'timed_out' }, seconds);
        return;
      default:
        (report.kind === AttemptKind.Retry ? retried : failed).inc(q);
        duration.observe({ queue: job.queue, outcome: 'failed' }, seconds);
    }
  });
  worker.on('rejected', (outcomes: unknown[]) => rejected.inc({}, outcomes.length));
  worker.on('warning', () => warnings.inc());
  return r;
}
