/**
 * Event names, CloudEvents types and NATS subjects. The producer side (the outbox in
 * `@jobline/core`) writes exactly these; subscribers build filters from them.
 */

/** Job transitions that emit events; the CloudEvents type is `dev.jobline.job.<event>`. */
export const JobEventName = {
  enqueued: 'enqueued',
  started: 'started',
  completed: 'completed',
  failed: 'failed',
  retrying: 'retrying',
  cancelled: 'cancelled',
  rescued: 'rescued',
} as const;
export type JobEventName = (typeof JobEventName)[keyof typeof JobEventName];

/** DAG run and node transitions; the CloudEvents type is `dev.jobline.dag.<event>`. */
export const DagEventName = {
  run_created: 'run_created',
  run_succeeded: 'run_succeeded',
  run_failed: 'run_failed',
  run_cancelled: 'run_cancelled',
  node_ready: 'node_ready',
  node_succeeded: 'node_succeeded',
  node_failed: 'node_failed',
  node_skipped: 'node_skipped',
  node_cancelled: 'node_cancelled',
} as const;
export type DagEventName = (typeof DagEventName)[keyof typeof DagEventName];

/**
 * Group (tenant) transitions; the CloudEvents type is `dev.jobline.group.<event>`, the subject
 * `jobline.group.<event>` (group keys are free text, not safe as NATS tokens: filter on `data.group`).
 */
export const GroupEventName = {
  held: 'held',
  released: 'released',
} as const;
export type GroupEventName = (typeof GroupEventName)[keyof typeof GroupEventName];

export type EventName = JobEventName | DagEventName | GroupEventName;

export const JOB_EVENT_NAMES = Object.values(JobEventName) as JobEventName[];
export const DAG_EVENT_NAMES = Object.values(DagEventName) as DagEventName[];

export const JOB_TYPE_PREFIX = 'dev.jobline.job.';
export const DAG_TYPE_PREFIX = 'dev.jobline.dag.';
export const GROUP_TYPE_PREFIX = 'dev.jobline.group.';
export const GROUP_EVENT_NAMES = Object.values(GroupEventName) as GroupEventName[];

/** The subject prefix of the default stream; a deployment may choose its own (e.g. per schema). */
export const DEFAULT_SUBJECT_PREFIX = 'jobline';
/** The default JetStream stream name. */
export const DEFAULT_STREAM = 'JOBLINE';

export const jobEventType = (e: JobEventName) => `${JOB_TYPE_PREFIX}${e}` as const;
export const dagEventType = (e: DagEventName) => `${DAG_TYPE_PREFIX}${e}` as const;
export const groupEventType = (e: GroupEventName) => `${GROUP_TYPE_PREFIX}${e}` as const;

export function isJobEventName(v: string): v is JobEventName {
  return Object.hasOwn(JobEventName, v);
}
export function isDagEventName(v: string): v is DagEventName {
  return Object.hasOwn(DagEventName, v);
}
export function isGroupEventName(v: string): v is GroupEventName {
  return Object.hasOwn(GroupEventName, v);
}
