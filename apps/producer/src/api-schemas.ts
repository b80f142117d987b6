/**
 * The HTTP contract as zod schemas: requests are parsed with them, responses are typed by them,
 * and /openapi.json is generated from them (openapi.ts) — one definition of every field.
 * Request schemas reuse the library's (`JobSpecSchema`, `DefinitionSpecSchema`), adjusted only
 * where JSON differs from JavaScript (dates are ISO-8601 strings).
 */
import { z } from 'zod';
import { DagNodeState, DagRunState, ExecutionState, JobState, type Job as CoreJob } from '@jobline/core';
import { DagSpecSchema, JobName, JobSpecSchema, QueueName } from '@jobline/core/schemas';
import { DefinitionSpecSchema } from '@jobline/core/definitions';

// PostgreSQL text columns cannot hold NUL: refuse it here with a field error rather than a driver error.
const noNul = (v: string) => !v.includes('\0');
const NUL_MESSAGE = 'must not contain NUL characters';
const DateTime = z.iso.datetime({ offset: true });

// ---- requests ---------------------------------------------------------------------------------

export const JobCreate = JobSpecSchema.extend({
  queue: QueueName.optional().meta({ description: 'Queue name; defaults to the definition\'s queue, else "default".' }),
  name: JobName.refine(noNul, NUL_MESSAGE)
    .optional()
    .meta({ description: 'Job name (selects the handler); defaults to the definition name.' }),
  input: z.unknown().optional().meta({ description: 'Any JSON value, passed to the handler.' }),
  runAt: DateTime.optional().meta({ description: 'Run no earlier than this time (ISO-8601 with offset).' }),
  idempotencyKey: z.string().min(1).max(255).refine(noNul, NUL_MESSAGE).optional().meta({
    description: 'A second enqueue with the same key in the same queue returns the first job (200 instead of 201).',
  }),
  definition: z.string().min(1).max(200).optional().meta({ description: 'Job definition `name` (latest) or `name@version`.' }),
}).superRefine((j, ctx) => {
  if (j.name === undefined && j.definition === undefined) {
    ctx.addIssue({ code: 'custom', path: ['name'], message: 'give a job name, or a definition to take it from' });
  }
});

export const JobBatchCreate = z.strictObject({
  jobs: z.array(JobCreate).min(1, 'give at least one job').max(10_000, 'at most 10,000 jobs per batch'),
});

const PositiveId = z
  .string()
  .regex(/^[1-9][0-9]{0,15}$/, 'must be a positive integer id')
  .transform(Number)
  .refine(Number.isSafeInteger, 'is too large for an id');
export const IdParams = z.strictObject({ id: PositiveId });

export const ListJobsQuery = z.strictObject({
  queue: QueueName.optional(),
  state: z.enum(Object.values(JobState) as [JobState, ...JobState[]]).optional(),
  limit: z
    .string()
    .regex(/^[0-9]{1,4}$/, 'must be an integer from 1 to 1000')
    .transform(Number)
    .refine((n) => n >= 1 && n <= 1000, 'must be an integer from 1 to 1000')
    .optional(),
  cursor: z.string().min(1).max(200).optional(),
});

export const DefinitionCreate = DefinitionSpecSchema;

export const DefinitionRefParams = z.strictObject({
  ref: z.string().regex(/^[A-Za-z0-9_.:-]{1,200}(@[1-9][0-9]{0,6})?$/, 'use a definition name or name@version'),
});

export const DagCreate = DagSpecSchema;

export const ListDefinitionsQuery = z.strictObject({
  name: z.string().min(1).max(200).optional(),
});

// ---- responses --------------------------------------------------------------------------------

export const FieldIssue = z.strictObject({ path: z.string(), message: z.string() });

export const ErrorBody = z.strictObject({
  error: z.strictObject({
    code: z.string().meta({ description: 'Stable machine-readable code, e.g. VALIDATION, NOT_FOUND, UNAUTHORIZED.' }),
    message: z.string(),
    issues: z.array(FieldIssue).optional().meta({ description: 'Each bad field, for VALIDATION errors.' }),
  }),
});

export const JobError = z.looseObject({
  message: z.string(),
  name: z.string().optional(),
  stack: z.string().optional(),
  code: z.string().optional(),
  retryable: z.boolean().optional(),
});

// The job as JSON: exactly the fields of @jobline/core's `Job` (the one definition of the shape),
// which `satisfies` checks at compile time — a field added there and not here is a type error.
export const Job = z.strictObject({
  id: z.int().positive(),
  queue: z.string(),
  name: z.string(),
  state: z.enum(Object.values(JobState) as [JobState, ...JobState[]]),
  priority: z.int(),
  runAt: DateTime,
  attempt: z.int().min(0),
  maxAttempts: z.int().min(1),
  timeoutMs: z.int().min(1),
  input: z.unknown(),
  output: z.unknown().optional(),
  error: JobError.optional(),
  progress: z.number().optional(),
  idempotencyKey: z.string().optional(),
  definition: z.string().optional().meta({ description: 'The definition the job was validated against, pinned as name@version.' }),
  dagRunId: z.int().optional(),
  dagNodeKey: z.string().optional(),
  workerId: z.string().optional(),
  traceparent: z.string().optional(),
  group: z
    .string()
    .optional()
    .meta({ description: "The job's group (e.g. a tenant): per-group limits, fair claiming and quotas apply to it." }),
  waitingReason: z
    .enum(['group_limit', 'rate_limit', 'quota', 'queue_paused'])
    .optional()
    .meta({ description: 'For an available job that cannot start now, why.' }),
  singletonKey: z
    .string()
    .optional()
    .meta({ description: 'While this job is unfinished, enqueues with the same singletonKey in its queue return it.' }),
  createdAt: DateTime,
  claimedAt: DateTime.optional(),
  startedAt: DateTime.optional(),
  heartbeatAt: DateTime.optional(),
  completedAt: DateTime.optional(),
  updatedAt: DateTime,
} satisfies Record<keyof CoreJob, z.ZodType>);

export const BatchResult = z.strictObject({
  jobs: z.array(
    z.strictObject({
      job: Job,
      created: z.boolean(),
      policy: z
        .enum(['idempotencyKey', 'singletonKey', 'throttle', 'debounce'])
        .optional()
        .meta({ description: 'When created is false: the rule that returned the existing job.' }),
    }),
  ),
});

export const JobPage = z.strictObject({
  jobs: z.array(Job),
  nextCursor: z.string().optional().meta({ description: 'Pass as `cursor` for the next page; absent on the last page.' }),
});

export const Execution = z.strictObject({
  jobId: z.int(),
  attempt: z.int(),
  workerId: z.string().optional(),
  state: z.enum(Object.values(ExecutionState) as [ExecutionState, ...ExecutionState[]]),
  startedAt: DateTime.optional(),
  finishedAt: DateTime,
  durationMs: z.number().optional(),
  output: z.unknown().optional(),
  error: JobError.optional(),
});
export const ExecutionList = z.strictObject({ executions: z.array(Execution) });

export const QueueSummary = z.strictObject({
  name: z.string(),
  paused: z.boolean(),
  concurrencyLimit: z.int().optional(),
  counts: z.record(z.string(), z.int()).meta({ description: 'Jobs per state (states with none are omitted).' }),
});
export const QueueList = z.strictObject({ queues: z.array(QueueSummary) });

export const Definition = z.strictObject({
  name: z.string(),
  version: z.int(),
  executor: z.enum(['handler', 'process', 'container']),
  image: z.string().optional(),
  command: z.string().optional(),
  args: z.array(z.string()),
  env: z.record(z.string(), z.string()),
  secretEnv: z.array(z.string()),
  resources: z.record(z.string(), z.union([z.number(), z.string()])),
  container: z
    .strictObject({
      input: z.enum(['stdin', 'file']),
      inputPath: z.string().optional(),
      outputPath: z.string().optional(),
      pullPolicy: z.enum(['never', 'if-missing']),
    })
    .optional(),
  inputSchema: z.record(z.string(), z.unknown()).optional(),
  defaults: z.strictObject({
    queue: z.string().optional(),
    priority: z.int().optional(),
    maxAttempts: z.int().optional(),
    timeoutMs: z.int().optional(),
  }),
  createdAt: DateTime,
});
export const DefinitionList = z.strictObject({ definitions: z.array(Definition) });

export const Health = z.strictObject({ status: z.string() });
export const Ready = z.strictObject({
  status: z.enum(['ready', 'not ready']),
  checks: z.strictObject({ database: z.boolean(), migrationsCurrent: z.boolean() }),
});

const values = <T extends string>(o: Record<string, T>) => Object.values(o) as [T, ...T[]];

export const DagNode = z.strictObject({
  key: z.string(),
  jobId: z.int(),
  queue: z.string(),
  name: z.string(),
  state: z.enum(values(DagNodeState)),
  jobState: z
    .enum(Object.values(JobState) as [JobState, ...JobState[]])
    .meta({ description: "The node's job row state (e.g. retryable between attempts)." }),
  dependsOn: z.array(z.string()),
  children: z.array(z.string()),
  remainingDeps: z.int(),
  attempt: z.int(),
  maxAttempts: z.int(),
  createdAt: DateTime,
  startedAt: DateTime.optional(),
  finishedAt: DateTime.optional(),
  workerId: z.string().optional(),
  error: JobError.optional(),
});

export const DagRun = z.strictObject({
  id: z.int().positive(),
  name: z.string(),
  state: z.enum(values(DagRunState)),
  failurePolicy: z.enum(['fail_fast', 'continue']),
  idempotencyKey: z.string().optional(),
  nodeCount: z.int(),
  nodesDone: z.int(),
  createdAt: DateTime,
  finishedAt: DateTime.optional(),
  nodes: z.array(DagNode),
  edges: z.array(z.strictObject({ from: z.string(), to: z.string() })),
});

/** Schemas used inside others that get their own named component in the OpenAPI document. */
export const nestedComponents: z.ZodType[] = [FieldIssue, JobError, Execution, QueueSummary, DagNode];

// Schedule (issue 8) and dashboard (issue 17) endpoints' schemas, in schemas/ — not in routes/,
// which imports this file (that was a folder cycle, scripts/check-imports.mjs).
export * from './schemas/schedules.js';
export * from './schemas/dashboard.js';
export * from './schemas/quotas.js';
