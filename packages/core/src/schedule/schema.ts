/**
 * The schedule contract: const-object enums and the zod schemas that every write of a
 * schedule, constraint or action goes through (library, producer API and CLI alike), so a bad
 * JSON config is refused with the field named (`job.priority`, `config.url`) before it reaches
 * the database.
 */
import { z } from 'zod';
import { JobName, JobSpecSchema, QueueName } from '../schemas.js';
import { DagSpecSchema } from '../dag/spec.js';
import { validateCron } from './cron.js';
import { RunStatus } from '../model/states.js';

export const ActionType = {
  retry: 'retry',
  kickOffJob: 'kick_off_job',
  webhook: 'webhook',
  killAllInstances: 'kill_all_instances',
  killLatestInstance: 'kill_latest_instance',
  skipNextInstance: 'skip_next_instance',
} as const;
export type ActionType = (typeof ActionType)[keyof typeof ActionType];

export const ActionTrigger = {
  onFailure: 'on_failure',
  onViolation: 'on_violation',
  onSuccess: 'on_success',
  onTimeout: 'on_timeout',
} as const;
export type ActionTrigger = (typeof ActionTrigger)[keyof typeof ActionTrigger];

export { RunStatus, RunTrigger } from '../model/states.js';

export const ViolationType = {
  maxConcurrentRuns: 'max_concurrent_runs',
  maxExpectedRunTime: 'max_expected_run_time',
  maxAllowedRunTime: 'max_allowed_run_time',
  requirePreviousSuccess: 'require_previous_success',
  preRunHook: 'pre_run_hook',
} as const;
export type ViolationType = (typeof ViolationType)[keyof typeof ViolationType];

/** Schedule, constraint and action names appear in URLs and CLI arguments. */
export const ScheduleName = z.string().regex(/^[A-Za-z0-9_.:-]{1,200}$/, 'names use 1-200 letters, digits, "_", ".", ":" or "-"');

const durationMs = (max = 366 * 24 * 3600_000) => z.number().int().min(1, 'must be at least 1 ms').max(max);
const EnvName = z.string().regex(/^[A-Za-z_][A-Za-z0-9_]{0,127}$/, 'environment variable names use letters, digits and "_"');
const HeaderName = z.string().regex(/^[A-Za-z0-9!#$%&'*+.^_`|~-]{1,100}$/, 'not a valid HTTP header name');

/**
 * A webhook target: actions of type `webhook` and the pre/post-run hooks. The body is JSON and
 * signed with HMAC-SHA256 when a secret is given (see webhook.ts for the header format).
 */
export const WebhookConfigSchema = z.strictObject({
  url: z.url({ protocol: /^https?$/, error: 'url must be an http:// or https:// URL' }),
  method: z.enum(['POST', 'PUT']).default('POST'),
  headers: z.record(HeaderName, z.string().max(4096)).default({}),
  /** HMAC key. Stored in the database: prefer `secretEnv` (read from the scheduler's environment). */
  secret: z.string().min(1).max(1024).optional(),
  /** Name of an environment variable of the scheduler process that holds the HMAC key. */
  secretEnv: EnvName.optional(),
  /** Per attempt. @default 5000 */
  timeoutMs: durationMs(120_000).default(5000),
  /** Attempts after the first, on network errors, timeouts, 429 and 5xx. @default 2 */
  retries: z.number().int().min(0).max(10).default(2),
  /** Delay before the first retry, doubled each time. @default 500 */
  retryDelayMs: z.number().int().min(0).max(60_000).default(500),
});
export type WebhookConfig = z.input<typeof WebhookConfigSchema>;
export type ResolvedWebhookConfig = z.output<typeof WebhookConfigSchema>;

/** A pre-run hook may block the run: with `required`, a failed call skips it (a violation). */
export const PreRunHookSchema = WebhookConfigSchema.extend({ required: z.boolean().default(false) });

/**
 * The job a schedule enqueues for each run. `runAt` and `idempotencyKey` belong to the
 * scheduler. Queue and priority stay unset unless given, so a definition's defaults apply when
 * the job is enqueued (they are resolved per run, against the definition's current version).
 */
export const JobTemplateSchema = JobSpecSchema.omit({ runAt: true, idempotencyKey: true })
  .extend({
    name: JobName.optional(),
    queue: QueueName.optional(),
    priority: z.number().int().min(-1_000_000).max(1_000_000).optional(),
  })
  .refine((j) => j.name !== undefined || j.definition !== undefined, {
    message: 'give a job name, or a definition whose name is used',
    path: ['name'],
  });
export type JobTemplate = z.input<typeof JobTemplateSchema>;

/** The DAG a schedule submits for each run (recurring DAG). */
export const DagTemplateSchema = DagSpecSchema.omit({ idempotencyKey: true });
export type DagTemplate = z.input<typeof DagTemplateSchema>;

export const RequirePreviousSuccessSchema = z.union(
  [z.boolean(), z.strictObject({ schedule: ScheduleName }), z.strictObject({ job: JobName, queue: QueueName.default('default') })],
  { error: 'requirePreviousSuccess is true, { "schedule": name } or { "job": name, "queue"?: queue }' },
);
export type RequirePreviousSuccess = z.input<typeof RequirePreviousSuccessSchema>;

export const ConstraintFields = {
  /** Runs of the schedule in flight at once; a due run beyond it is skipped or delayed (a violation). */
  maxConcurrentRuns: z.number().int().min(1).max(100_000).nullish(),
  /** What a due run beyond maxConcurrentRuns does. @default 'skip' */
  concurrencyPolicy: z.enum(['skip', 'delay'], { error: 'concurrencyPolicy must be "skip" or "delay"' }).optional(),
  /** After downtime, start the runs missed within catchUpWindowMs (oldest first). @default false */
  catchUp: z.boolean().optional(),
  /** How far back catch-up reaches; null = every missed run. */
  catchUpWindowMs: durationMs().nullish(),
  /** A run going longer is a violation (on_violation actions); it keeps running. */
  maxExpectedRunTimeMs: durationMs().nullish(),
  /** A run going longer is cancelled (its signal fires), a violation, and on_timeout actions run. */
  maxAllowedRunTimeMs: durationMs().nullish(),
  preRunHook: PreRunHookSchema.nullish(),
  postRunHook: WebhookConfigSchema.nullish(),
  requirePreviousSuccess: RequirePreviousSuccessSchema.nullish(),
};

export const ConstraintSpecSchema = z.strictObject({ name: ScheduleName, ...ConstraintFields });
export type ConstraintSpec = z.input<typeof ConstraintSpecSchema>;
export const ConstraintPatchSchema = z.strictObject(ConstraintFields);
export type ConstraintPatch = z.input<typeof ConstraintPatchSchema>;

/** Each action type's config; the field path of an error is `config.<field>`. */
export const ActionConfigSchemas = {
  retry: z.strictObject({
    /** Retry actions per run (the run's attempt count minus one). @default 3 */
    maxRetries: z.number().int().min(0).max(1000).default(3),
    /** Delay before the new job runs. @default 0 */
    delayMs: z
      .number()
      .int()
      .min(0)
      .max(7 * 24 * 3600_000)
      .default(0),
  }),
  kick_off_job: z.strictObject({
    job: JobTemplateSchema,
    /** Add `{ schedule: { id, name, runId, scheduledAt, trigger, status } }` to an object input. @default false */
    passContext: z.boolean().default(false),
  }),
  webhook: WebhookConfigSchema,
  kill_all_instances: z.strictObject({ schedule: ScheduleName.optional() }),
  kill_latest_instance: z.strictObject({ schedule: ScheduleName.optional() }),
  skip_next_instance: z.strictObject({ schedule: ScheduleName.optional() }),
} as const;

export const ActionTypeSchema = z.enum(Object.values(ActionType) as [ActionType, ...ActionType[]], {
  error: `type must be one of ${Object.values(ActionType).join(', ')}`,
});

export const ActionSpecSchema = z.strictObject({
  name: ScheduleName,
  type: ActionTypeSchema,
  config: z.record(z.string(), z.unknown()).default({}),
});
export type ActionSpec = z.input<typeof ActionSpecSchema>;

export const ActionBindingSchema = z.strictObject({
  /** The action's name. */
  action: ScheduleName,
  trigger: z.enum(Object.values(ActionTrigger) as [ActionTrigger, ...ActionTrigger[]], {
    error: `trigger must be one of ${Object.values(ActionTrigger).join(', ')}`,
  }),
  /** on_violation only: fire for violations of this constraint (by name) alone. */
  constraint: ScheduleName.optional(),
});
export type ActionBinding = z.input<typeof ActionBindingSchema>;

/**
 * A name or an inline object. Not a z.union: a union that fails reports only "invalid input"
 * at its own path, and every error here must name the bad field (`constraint.maxConcurrentRuns`).
 */
function nameOr<O extends z.ZodType>(obj: O): z.ZodType<string | z.output<O>, string | z.input<O>> {
  return z.unknown().transform((v, ctx) => {
    const r = (typeof v === 'string' ? ScheduleName : obj).safeParse(v);
    if (r.success) return r.data as string | z.output<O>;
    for (const i of r.error.issues) ctx.addIssue({ code: 'custom', message: i.message, path: i.path });
    return z.NEVER;
  }) as unknown as z.ZodType<string | z.output<O>, string | z.input<O>>;
}

/**
 * Checked on its own (in UTC) so that its error comes with the other fields' errors; the zone
 * cannot change whether an expression parses or fires.
 */
const CronExpression = z
  .string()
  .min(1)
  .max(500)
  .superRefine((v, ctx) => {
    const err = validateCron(v, 'UTC');
    if (err) ctx.addIssue({ code: 'custom', message: err });
  });

const IanaZone = z.string().refine((tz) => {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}, 'is not an IANA time zone (e.g. "Europe/Berlin", "UTC")');

const ScheduleFields = {
  description: z.string().max(2000).nullish(),
  /** 5 fields, 6 with seconds first, or @yearly/@monthly/@weekly/@daily/@hourly. */
  cron: CronExpression,
  /** IANA zone the expression is read in; DST is handled by croner. @default 'UTC' */
  timezone: IanaZone.optional(),
  job: JobTemplateSchema.optional(),
  dag: DagTemplateSchema.optional(),
  paused: z.boolean().optional(),
  /** A constraint's name, an inline constraint (stored as `schedule:<schedule name>`), or null for none. */
  constraint: nameOr(z.strictObject(ConstraintFields)).nullish(),
  /** Replaces the schedule's action bindings when given. */
  actions: z.array(ActionBindingSchema).max(100).optional(),
};

export const ScheduleSpecSchema = z.strictObject({ name: ScheduleName, ...ScheduleFields }).superRefine((v, ctx) => {
  if ((v.job === undefined) === (v.dag === undefined)) {
    ctx.addIssue({ code: 'custom', path: ['job'], message: 'give exactly one of job (a job template) or dag (a DAG template)' });
  }
});
export type ScheduleSpec = z.input<typeof ScheduleSpecSchema>;

export const SchedulePatchSchema = z.strictObject({ ...ScheduleFields, cron: ScheduleFields.cron.optional() }).superRefine((v, ctx) => {
  if (v.job !== undefined && v.dag !== undefined) {
    ctx.addIssue({ code: 'custom', path: ['job'], message: 'give at most one of job or dag' });
  }
});
export type SchedulePatch = z.input<typeof SchedulePatchSchema>;

export const RunFilterSchema = z.strictObject({
  status: z.enum(Object.values(RunStatus) as [RunStatus, ...RunStatus[]]).optional(),
  /** Runs scheduled before this instant (keyset pagination: pass the last row's scheduledAt). */
  before: z
    .union([z.date(), z.iso.datetime({ offset: true })])
    .transform((v) => new Date(v))
    .optional(),
  limit: z.number().int().min(1).max(1000).default(50),
});
export type RunFilter = z.input<typeof RunFilterSchema>;

export const ViolationFilterSchema = z.strictObject({
  schedule: ScheduleName.optional(),
  type: z.enum(Object.values(ViolationType) as [ViolationType, ...ViolationType[]]).optional(),
  runId: z.number().int().min(1).optional(),
  /** Violations with an id below this (keyset pagination, newest first). */
  before: z.number().int().min(1).optional(),
  limit: z.number().int().min(1).max(1000).default(50),
});
export type ViolationFilter = z.input<typeof ViolationFilterSchema>;
