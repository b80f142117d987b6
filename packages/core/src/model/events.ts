/**
 * The event vocabulary as core uses it. Names, CloudEvents types and subjects are defined by
 * `@jobline/contracts` only (what subscribers build against); this file gives them core's
 * camelCase keys and maps states to the events they emit, so SQL renders both from one place.
 */
import { DagEventName, JobEventName } from '@jobline/contracts';
import { DagNodeState, DagRunState, JobState } from './states.js';

/** Job event names (from @jobline/contracts); the CloudEvents type is `dev.jobline.job.<event>`. */
export const JobEvent = JobEventName;
export type JobEvent = JobEventName;

/**
 * DAG event names: CloudEvents type `dev.jobline.dag.<event>`, subject
 * `jobline.dag.<event>.<dagRunId>`. Underscored so a subject keeps its token positions.
 */
export const DagEvent = {
  runCreated: DagEventName.run_created,
  runSucceeded: DagEventName.run_succeeded,
  runFailed: DagEventName.run_failed,
  runCancelled: DagEventName.run_cancelled,
  nodeReady: DagEventName.node_ready,
  nodeSucceeded: DagEventName.node_succeeded,
  nodeFailed: DagEventName.node_failed,
  nodeSkipped: DagEventName.node_skipped,
  nodeCancelled: DagEventName.node_cancelled,
} as const;
export type DagEvent = (typeof DagEvent)[keyof typeof DagEvent];

/** The node event for a node that reached a state (any other state: node_cancelled). */
export const NODE_EVENT_BY_STATE = {
  [DagNodeState.available]: DagEvent.nodeReady,
  [DagNodeState.succeeded]: DagEvent.nodeSucceeded,
  [DagNodeState.failed]: DagEvent.nodeFailed,
  [DagNodeState.skipped]: DagEvent.nodeSkipped,
} as const;

/** The node state a finished job gives its node (any other job state: cancelled). */
export const NODE_STATE_BY_JOB_STATE = {
  [JobState.completed]: DagNodeState.succeeded,
  [JobState.failed]: DagNodeState.failed,
} as const;

/** The run event for a run that ended in a state. */
export const RUN_EVENT_BY_STATE = {
  [DagRunState.succeeded]: DagEvent.runSucceeded,
  [DagRunState.failed]: DagEvent.runFailed,
  [DagRunState.cancelled]: DagEvent.runCancelled,
} as const;
