/**
 * HTTP schemas of the schedule endpoints (issue 8). Requests reuse the library's schemas, which
 * validate every JSON config on write; responses describe what the library returns, with dates
 * as ISO-8601 strings. Re-exported from api-schemas.ts so /openapi.json names them.
 */
import { z } from 'zod';
import {
  ActionSpecSchema,
  ActionTrigger,
  ActionType,
  ConstraintSpecSchema,
  RunStatus,
  RunTrigger,
  ScheduleName,
  ScheduleSpecSchema,
  ViolationType,
} from '@jobline/core/schedule';

const DateTime = z.iso.datetime({ offset: true });
const values = <T extends Record<string, string>>(o: T) => Object.values(o) as [T[keyof T], ...T[keyof T][]];

// ---- requests ---------------------------------------------------------------------------------

export const ScheduleCreate = ScheduleSpecSchema;
export const ConstraintCreate = ConstraintSpecSchema;
export const ActionCreate = ActionSpecSchema;

/** A schedule by numeric id or by name. */
export const ScheduleRefParams = z.strictObject({
  id: z
    .string()
    .min(1)
    .max(200)
    .transform((v) => (/^[1-9][0-9]{0,15}$/.test(v) ? Number(v) : v))
    .meta({ description: 'The schedule id, or its name.' }),
});

const Limit = z
  .string()
  .regex(/^\d{1,4}$/, 'limit must be an integer from 1 to 1000')
  .transform(Number)
  .refine((n) => n >= 1 && n <= 1000, 'limit must be an integer from 1 to 1000');

export const RunsQuery = z.strictObject({
  status: z.enum(values(RunStatus)).optional(),
  before: DateTime.optional().meta({ description: 'Runs scheduled before this time (pass the last row’s scheduledAt for the next page).' }),
  limit: Limit.optional(),
});

export const ViolationsQuery = z.strictObject({
  schedule: ScheduleName.optional(),
  type: z.enum(values(ViolationType)).optional(),
  runId: z
    .string()
    .regex(/^[1-9][0-9]{0,15}$/, 'runId must be a positive integer')
    .transform(Number)
    .optional(),
  before: z
    .string()
    .regex(/^[1-9][0-9]{0,15}$/, 'before must be a violation id')
    .transform(Number)
    .optional(),
  limit: Limit.optional(),
});

export const StatsQuery = z.strictObject({ limit: Limit.optional() });

// ---- responses --------------------------------------------------------------------------------

const Hook = z.looseObject({ url: z.string() });

export const Constraint = z.strictObject({
  id: z.int(),
  name: z.string(),
  maxConcurrentRuns: z.int().optional(),
  concurrencyPolicy: z.enum(['skip', 'delay']),
  catchUp: z.boolean(),
  catchUpWindowMs: z.number().optional(),
  maxExpectedRunTimeMs: z.number().optional(),
  maxAllowedRunTimeMs: z.number().optional(),
  preRunHook: Hook.optional(),
  postRunHook: Hook.optional(),
  requirePreviousSuccess: z.unknown().optional(),
  createdAt: DateTime,
  updatedAt: DateTime,
});
export const ConstraintList = z.strictObject({ constraints: z.array(Constraint) });

export const Action = z.strictObject({
  id: z.int(),
  name: z.string(),
  type: z.enum(values(ActionType)),
  config: z.record(z.string(), z.unknown()).meta({ description: 'Secrets are shown as "********".' }),
  createdAt: DateTime,
  updatedAt: DateTime,
});
export const ActionList = z.strictObject({ actions: z.array(Action) });

export const ActionBindingOut = z.strictObject({
  actionId: z.int(),
  action: z.string(),
  type: z.enum(values(ActionType)),
  trigger: z.enum(values(ActionTrigger)),
  constraintId: z.int().optional(),
  constraint: z.string().optional(),
});

export const Schedule = z.strictObject({
  id: z.int(),
  name: z.string(),
  description: z.string().optional(),
  cron: z.string(),
  timezone: z.string(),
  job: z.record(z.string(), z.unknown()).optional(),
  dag: z.record(z.string(), z.unknown()).optional(),
  paused: z.boolean(),
  constraintId: z.int().optional(),
  constraint: Constraint.optional(),
  actions: z.array(ActionBindingOut),
  materialisedUntil: DateTime.meta({ description: 'Runs exist for every occurrence up to here.' }),
  skipNext: z.int(),
  createdAt: DateTime,
  updatedAt: DateTime,
  nextRunAt: DateTime.optional(),
});
export const ScheduleList = z.strictObject({ schedules: z.array(Schedule) });

export const ScheduleRun = z.strictObject({
  id: z.int(),
  scheduleId: z.int(),
  scheduledAt: DateTime,
  trigger: z.enum(values(RunTrigger)),
  jobId: z.int().optional(),
  dagRunId: z.int().optional(),
  status: z.enum(values(RunStatus)),
  attempt: z.int(),
  gatePassedAt: DateTime.optional(),
  startedAt: DateTime.optional(),
  completedAt: DateTime.optional(),
  expectedExceededAt: DateTime.optional(),
  handledAt: DateTime.optional(),
  details: z.record(z.string(), z.unknown()),
  createdAt: DateTime,
});
export const ScheduleRunList = z.strictObject({ runs: z.array(ScheduleRun) });

export const Violation = z.strictObject({
  id: z.int(),
  runId: z.int().optional(),
  scheduleId: z.int(),
  schedule: z.string().optional(),
  constraintId: z.int().optional(),
  type: z.enum(values(ViolationType)),
  attempt: z.int(),
  occurredAt: DateTime,
  actionTaken: z.string(),
  details: z.record(z.string(), z.unknown()),
  handledAt: DateTime.optional(),
});
export const ViolationList = z.strictObject({ violations: z.array(Violation) });

export const SchedulerStats = z.strictObject({
  id: z.int(),
  holder: z.string(),
  periodStart: DateTime,
  periodEnd: DateTime,
  iterations: z.int(),
  indexRebuilds: z.int(),
  runsMaterialised: z.int(),
  runsStarted: z.int(),
  lateRuns: z.int(),
  missedRuns: z.int(),
  skippedRuns: z.int(),
  delayedRuns: z.int(),
  cancelledRuns: z.int(),
  violations: z.int(),
  actionsFired: z.int(),
  webhookFailures: z.int(),
  inbox: z.int(),
  avgLagMs: z.number().optional(),
  maxLagMs: z.number().optional(),
  maxTickMs: z.number().optional(),
});
export const SchedulerStatsList = z.strictObject({ stats: z.array(SchedulerStats) });
