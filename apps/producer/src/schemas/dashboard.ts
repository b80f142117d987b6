/** Request and response schemas of the dashboard's endpoints (routes/dashboard.ts, routes/operate.ts). */
import { z } from 'zod';
import { DagFailurePolicy, DagRunState, JobState } from '@jobline/core';
import { JobName, QueueConfigSchema, QueueName } from '@jobline/core/schemas';
// No import from api-schemas.ts: it re-exports this module (for the OpenAPI document), and a
// cycle would leave these schemas undefined while it loads. Job search pages use its JobPage.

const DateTime = z.iso.datetime({ offset: true });
const states = Object.values(JobState) as [JobState, ...JobState[]];
const intString = (min: number, max: number) =>
  z
    .string()
    .regex(/^[0-9]{1,6}$/, `must be an integer from ${min} to ${max}`)
    .transform(Number)
    .refine((n) => n >= min && n <= max, `must be an integer from ${min} to ${max}`);

export const Session = z.strictObject({
  name: z.string(),
  scopes: z.array(z.enum(['read', 'write', 'admin'])),
  allQueues: z.boolean(),
  queues: z.array(z.string()).optional().meta({ description: 'The queues a queue-limited token may use.' }),
  auth: z.boolean().meta({ description: 'false when the producer runs with JOBLINE_AUTH=off.' }),
});

export const OverviewQuery = z.strictObject({
  after: QueueName.optional().meta({ description: 'Queues after this name (keyset pagination).' }),
  prefix: z
    .string()
    .regex(/^[A-Za-z0-9_-]{0,128}$/, 'a queue name prefix: letters, digits, "_" or "-"')
    .optional(),
  limit: intString(1, 200).optional(),
});

const Depth = z.strictObject({ n: z.int(), estimated: z.boolean() });
export const Overview = z.strictObject({
  generatedAt: DateTime,
  queues: z.array(
    z.strictObject({
      name: z.string(),
      paused: z.boolean(),
      concurrencyLimit: z.int().optional(),
      depth: z.partialRecord(z.enum(states), Depth),
      oldestAvailable: z.strictObject({ id: z.int(), runAt: DateTime, ageMs: z.number() }).optional(),
    }),
  ),
  nextAfter: z.string().optional(),
  depthCap: z.int().meta({
    description: 'Depth counts are exact up to this; beyond it they are extrapolated from the density of matching ids (estimated: true).',
  }),
  throughput: z.strictObject({
    windowMs: z.int(),
    series: z.array(
      z.strictObject({
        t: DateTime,
        completed: z.int(),
        failed: z.int(),
        pickupP50Ms: z.number().optional(),
        pickupP99Ms: z.number().optional(),
      }),
    ),
    queues: z.array(
      z.strictObject({
        queue: z.string(),
        completed: z.int(),
        failed: z.int(),
        cancelled: z.int(),
        failureRate: z.number().optional(),
        pickupP50Ms: z.number().optional(),
        pickupP99Ms: z.number().optional(),
      }),
    ),
    sampleSize: z.int(),
    sampled: z.boolean(),
    sampleCap: z.int(),
  }),
  workers: z.array(
    z.strictObject({
      id: z.string(),
      hostname: z.string(),
      pid: z.int(),
      queues: z.array(z.string()),
      concurrency: z.int(),
      version: z.string(),
      startedAt: DateTime,
      heartbeatAt: DateTime,
      heartbeatAgeMs: z.number(),
      inFlight: z.int(),
    }),
  ),
  outbox: z
    .strictObject({ rows: z.int(), oldestAgeMs: z.number() })
    .optional()
    .meta({ description: 'Only for tokens that see every queue.' }),
  tables: z
    .record(z.string(), z.int())
    .optional()
    .meta({ description: 'pg_class.reltuples estimates; only for tokens that see every queue.' }),
});

export const JobSearchQuery = z.strictObject({
  queue: QueueName.optional(),
  state: z.enum(states).optional(),
  name: JobName.optional(),
  createdAfter: DateTime.optional(),
  createdBefore: DateTime.optional(),
  dagRunId: z
    .string()
    .regex(/^[1-9][0-9]{0,15}$/, 'must be a DAG run id')
    .transform(Number)
    .optional(),
  limit: intString(1, 500).optional(),
  cursor: z.string().min(1).max(200).optional(),
});

export const DagListQuery = z.strictObject({
  state: z.enum(Object.values(DagRunState) as [string, ...string[]]).optional(),
  name: z.string().min(1).max(200).optional(),
  limit: intString(1, 500).optional(),
  cursor: z.string().min(1).max(200).optional(),
});
export const DagRunSummary = z.strictObject({
  id: z.int().positive(),
  name: z.string(),
  state: z.enum(Object.values(DagRunState) as [string, ...string[]]),
  failurePolicy: z.enum(Object.values(DagFailurePolicy) as [string, ...string[]]),
  idempotencyKey: z.string().optional(),
  nodeCount: z.int(),
  nodesDone: z.int(),
  createdAt: DateTime,
  finishedAt: DateTime.optional(),
});
export const DagRunPage = z.strictObject({ runs: z.array(DagRunSummary), nextCursor: z.string().optional() });

export const BulkRetry = z.strictObject({
  queue: QueueName.optional(),
  name: JobName.optional(),
  state: z.enum(['failed', 'cancelled']).optional(),
  createdAfter: DateTime.optional(),
  createdBefore: DateTime.optional(),
  limit: z.int().min(1).max(10_000).optional(),
});
export const BulkRetryResult = z.strictObject({ retried: z.int(), ids: z.array(z.int()), more: z.boolean() });

export const QueueParams = z.strictObject({ name: QueueName });
// Group settings (issue 15) take the library's schemas, so the API and jl.updateQueue agree.
const GroupFields = {
  groupConcurrency: QueueConfigSchema.shape.groupConcurrency.meta({
    description:
      "Running jobs per group across all workers: a number, or { default, tiers: { pro: 5 } } (a group's tier is set once per group); null = none.",
  }),
  rateLimit: QueueConfigSchema.shape.rateLimit.meta({
    description: 'At most limit job starts of the queue in any window of periodMs; null = none.',
  }),
  groupRateLimit: QueueConfigSchema.shape.groupRateLimit.meta({
    description: 'At most limit job starts per group in any window of periodMs; null = none.',
  }),
};
export const QueueSettingsPatch = z.strictObject({
  concurrencyLimit: z
    .int()
    .min(1)
    .max(1_000_000)
    .nullable()
    .optional()
    .meta({ description: 'Running jobs across all workers; null = no limit.' }),
  ...GroupFields,
});
const RateLimitOut = z.strictObject({ limit: z.int(), periodMs: z.int() });
export const QueueSettings = z.strictObject({
  name: z.string(),
  paused: z.boolean(),
  concurrencyLimit: z.int().optional(),
  maxAttempts: z.int().optional(),
  timeoutMs: z.int().optional(),
  backoffBaseMs: z.int().optional(),
  backoffMaxMs: z.int().optional(),
  emitEvents: z.array(z.string()).optional(),
  groupConcurrency: z.union([z.int(), z.strictObject({ default: z.int().optional(), tiers: z.record(z.string(), z.int()) })]).optional(),
  rateLimit: RateLimitOut.optional(),
  groupRateLimit: RateLimitOut.optional(),
});

/** GET /v1/queues/:name/groups: the queue's group settings and its groups' live counts. */
export const QueueGroups = z.strictObject({
  queue: z.string(),
  settings: QueueSettings.pick({ groupConcurrency: true, rateLimit: true, groupRateLimit: true }),
  groups: z.array(
    z.strictObject({
      group: z.string(),
      running: z.int(),
      available: z.int(),
      tier: z.string().optional(),
      weight: z.int(),
      heldReason: z.string().optional(),
      limit: z
        .int()
        .optional()
        .meta({ description: 'The concurrency limit that applies to this group here (its tier, else the default).' }),
    }),
  ),
});

export const NextRuns = z.strictObject({ times: z.array(DateTime) });
