/** JSON bodies of schedule webhooks (actions and hooks); one shape, documented in README.md. */
import type { ScheduleRun, Violation } from './rows.js';
import type { IndexedSchedule } from './schedule-index.js';

export type WebhookEvent =
  | 'schedule.pre_run'
  | 'schedule.post_run'
  | 'schedule.run_succeeded'
  | 'schedule.run_failed'
  | 'schedule.violation'
  | 'schedule.timeout';

export function runPayload(
  event: WebhookEvent,
  sc: Pick<IndexedSchedule, 'id' | 'name'>,
  run: ScheduleRun,
  extra: { violation?: Violation; action?: string; deliveryId: string; now: Date },
): Record<string, unknown> {
  return {
    event,
    deliveryId: extra.deliveryId,
    sentAt: extra.now.toISOString(),
    action: extra.action,
    schedule: { id: sc.id, name: sc.name },
    run: {
      id: run.id,
      scheduledAt: run.scheduledAt,
      trigger: run.trigger,
      status: run.status,
      attempt: run.attempt,
      jobId: run.jobId,
      dagRunId: run.dagRunId,
      startedAt: run.startedAt,
      completedAt: run.completedAt,
    },
    violation: extra.violation && {
      id: extra.violation.id,
      type: extra.violation.type,
      occurredAt: extra.violation.occurredAt,
      actionTaken: extra.violation.actionTaken,
      details: extra.violation.details,
    },
  };
}
