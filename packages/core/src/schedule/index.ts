export { Scheduler, SCHEDULER_LEASE } from './scheduler.js';
export type { SchedulerOptions, ResolvedSchedulerOptions } from './options.js';
export { ScheduleApi } from './schedules-api.js';
export { ConstraintApi, ActionApi, queryViolations, queryStats } from './config-api.js';
export { redactSecrets, inlineConstraintName } from './api-base.js';
export { schedulesChannel, type ScheduleHost } from './host.js';
export {
  sendWebhook,
  sign as signWebhook,
  verifyWebhookSignature,
  SIGNATURE_HEADER,
  DELIVERY_HEADER,
  type WebhookResult,
} from './webhook.js';
export { compileCron, validateCron, occurrencesBetween, nextOccurrences, type CompiledCron } from './cron.js';
export { planRuns } from './materialise.js';
export { HELD_UNTIL } from './context.js';
export type { ScheduleRef } from './schedules-store.js';
export type { Schedule, ScheduleRun, Constraint, Action, Violation, SchedulerStatsRow, ScheduleActionBinding } from './rows.js';
export * from './schema.js';
export { listPasses, type OrchestratorPass, type PassFilter } from './pass-stats.js';
