import { z } from 'zod';
import {
  DAG_EVENT_NAMES,
  DAG_TYPE_PREFIX,
  GROUP_EVENT_NAMES,
  GROUP_TYPE_PREFIX,
  JOB_EVENT_NAMES,
  JOB_TYPE_PREFIX,
  type DagEventName,
  type GroupEventName,
  type JobEventName,
} from './names.js';

/**
 * The event envelope: CloudEvents 1.0, structured JSON mode. `subject` is the job id (job events)
 * or the DAG run id (DAG events), as a string; `id` is the outbox row id, unique per source and
 * also the JetStream `Nats-Msg-Id`, so subscribers dedup by it. `traceparent` (the CloudEvents
 * distributed-tracing extension) is present when the job was enqueued with one.
 *
 * Objects are parsed leniently (unknown fields pass through on the envelope and are ignored in
 * `data`) so that a subscriber built against this version keeps working when fields are added.
 */

const IsoTime = z.iso.datetime({ offset: true });
const Id = z.number().int().positive();
const TRACEPARENT = /^[0-9a-f]{2}-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$/;

export const JobStateSchema = z.enum(['scheduled', 'available', 'running', 'retryable', 'completed', 'failed', 'cancelled', 'waiting']);

/** The error summary carried by failed/retrying/rescued events (the full error stays in the job row). */
export const JobErrorSummarySchema = z.object({
  message: z.string(),
  name: z.string().optional(),
  code: z.string().optional(),
});

/** `data` of every job event: the job as it is after the transition. */
export const JobEventDataSchema = z.object({
  jobId: Id,
  queue: z.string().min(1),
  name: z.string().min(1),
  /** The job's state after this transition. */
  state: JobStateSchema,
  /** The attempt this event is about (0 before the first claim). */
  attempt: z.number().int().min(0),
  maxAttempts: z.number().int().min(1),
  dagRunId: Id.optional(),
  dagNodeKey: z.string().optional(),
  /** The job's group (e.g. a tenant), when it has one. */
  group: z.string().optional(),
  /** The worker that ran (or runs) the attempt. */
  workerId: z.string().optional(),
  runAt: IsoTime,
  createdAt: IsoTime,
  startedAt: IsoTime.optional(),
  finishedAt: IsoTime.optional(),
  durationMs: z.number().min(0).optional(),
  /** completed: the handler's output; over 4 KiB it is `{ truncated: true, bytes }` instead. */
  output: z.unknown().optional(),
  error: JobErrorSummarySchema.optional(),
});
export type JobEventData = z.infer<typeof JobEventDataSchema>;

/** `data` of DAG events: run events carry the run's state, node events the node's. */
export const DagEventDataSchema = z.object({
  dagRunId: Id,
  /** The DAG run's name. */
  name: z.string().min(1),
  state: z.enum(['running', 'succeeded', 'failed', 'cancelled', 'waiting', 'available', 'skipped']),
  nodeKey: z.string().optional(),
  jobId: Id.optional(),
  failurePolicy: z.enum(['fail_fast', 'continue']).optional(),
});
export type DagEventData = z.infer<typeof DagEventDataSchema>;

/** `data` of group events: a group (tenant) held because its quota ran out, or released after a top-up. */
export const GroupEventDataSchema = z.object({
  group: z.string().min(1),
  reason: z.enum(['quota']),
  /** true for held, false for released. */
  held: z.boolean(),
  /** The wallet balance at the transition (absent when the wallet was removed). */
  balance: z.number().int().optional(),
  unit: z.enum(['attempts', 'run_ms']).optional(),
});
export type GroupEventData = z.infer<typeof GroupEventDataSchema>;

const envelope = {
  specversion: z.literal('1.0'),
  id: z.string().regex(/^[1-9][0-9]*$/, 'id is the outbox row id'),
  /** `/jobline/<schema>` by default: event ids are unique per source. */
  source: z.string().min(1),
  subject: z.string().regex(/^[1-9][0-9]*$/, 'subject is the job or DAG run id'),
  time: IsoTime,
  datacontenttype: z.literal('application/json'),
  traceparent: z.string().regex(TRACEPARENT).optional(),
};

const jobEventSchema = <E extends JobEventName>(e: E) =>
  z.looseObject({ ...envelope, type: z.literal(`${JOB_TYPE_PREFIX}${e}` as `dev.jobline.job.${E}`), data: JobEventDataSchema });
const dagEventSchema = <E extends DagEventName>(e: E) =>
  z.looseObject({ ...envelope, type: z.literal(`${DAG_TYPE_PREFIX}${e}` as `dev.jobline.dag.${E}`), data: DagEventDataSchema });

/** Group events' CloudEvents `subject` is the group key (free text), not a numeric id. */
const groupEventSchema = <E extends GroupEventName>(e: E) =>
  z.looseObject({
    ...envelope,
    subject: z.string().min(1),
    type: z.literal(`${GROUP_TYPE_PREFIX}${e}` as `dev.jobline.group.${E}`),
    data: GroupEventDataSchema,
  });

type JobSchemas = { [E in JobEventName]: ReturnType<typeof jobEventSchema<E>> };
type DagSchemas = { [E in DagEventName]: ReturnType<typeof dagEventSchema<E>> };
type GroupSchemas = { [E in GroupEventName]: ReturnType<typeof groupEventSchema<E>> };

/** One schema per job event, by event name: `JobEventSchemas.completed.parse(x)`. */
export const JobEventSchemas = Object.fromEntries(JOB_EVENT_NAMES.map((e) => [e, jobEventSchema(e)])) as JobSchemas;
/** One schema per DAG event, by event name. */
export const DagEventSchemas = Object.fromEntries(DAG_EVENT_NAMES.map((e) => [e, dagEventSchema(e)])) as DagSchemas;

/** One schema per group event, by event name: `GroupEventSchemas.held.parse(x)`. */
export const GroupEventSchemas = Object.fromEntries(GROUP_EVENT_NAMES.map((e) => [e, groupEventSchema(e)])) as GroupSchemas;

/** Any job event (discriminated by `type`). */
export const JobEventSchema = z.discriminatedUnion(
  'type',
  Object.values(JobEventSchemas) as unknown as [JobSchemas[JobEventName], ...JobSchemas[JobEventName][]],
);
/** Any DAG event (discriminated by `type`). */
export const DagEventSchema = z.discriminatedUnion(
  'type',
  Object.values(DagEventSchemas) as unknown as [DagSchemas[DagEventName], ...DagSchemas[DagEventName][]],
);
/** Any group event (discriminated by `type`). */
export const GroupEventSchema = z.discriminatedUnion(
  'type',
  Object.values(GroupEventSchemas) as unknown as [GroupSchemas[GroupEventName], ...GroupSchemas[GroupEventName][]],
);
/** Any Jobline event. */
export const JoblineEventSchema = z.union([JobEventSchema, DagEventSchema, GroupEventSchema]);

export type JobEventOf<E extends JobEventName> = z.infer<JobSchemas[E]>;
export type DagEventOf<E extends DagEventName> = z.infer<DagSchemas[E]>;
export type JobEvent = z.infer<typeof JobEventSchema>;
export type DagEvent = z.infer<typeof DagEventSchema>;
export type GroupEventOf<E extends GroupEventName> = z.infer<GroupSchemas[E]>;
export type GroupEvent = z.infer<typeof GroupEventSchema>;
export type JoblineEvent = z.infer<typeof JoblineEventSchema>;

export function isJobEvent(e: JoblineEvent): e is JobEvent {
  return e.type.startsWith(JOB_TYPE_PREFIX);
}
export function isDagEvent(e: JoblineEvent): e is DagEvent {
  return e.type.startsWith(DAG_TYPE_PREFIX);
}
export function isGroupEvent(e: JoblineEvent): e is GroupEvent {
  return e.type.startsWith(GROUP_TYPE_PREFIX);
}

/** The event name of an envelope (`completed`, `run_failed`, …). */
export function eventName(e: JoblineEvent): JobEventName | DagEventName | GroupEventName {
  return e.type.slice(e.type.lastIndexOf('.') + 1) as JobEventName | DagEventName | GroupEventName;
}

const decoder = new TextDecoder();

/** Parses and validates a message payload (bytes, JSON text or an object); throws a ZodError or SyntaxError. */
export function parseEvent(payload: Uint8Array | string | unknown): JoblineEvent {
  const value =
    payload instanceof Uint8Array ? JSON.parse(decoder.decode(payload)) : typeof payload === 'string' ? JSON.parse(payload) : payload;
  return JoblineEventSchema.parse(value);
}
