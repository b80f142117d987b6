/**
 * The DAG submission contract (DESIGN §4): zod schemas shared by the library, the producer API
 * and the CLI, and the const-object enums for run and node states, policies and events.
 */
import { z } from 'zod';
import { JobName, QueueName, RetryTimeoutFields } from '../schemas.js';

export const DagRunState = {
  running: 'running',
  succeeded: 'succeeded',
  failed: 'failed',
  cancelled: 'cancelled',
} as const;
export type DagRunState = (typeof DagRunState)[keyof typeof DagRunState];

/**
 * Node states. `waiting` → `available` (all parents succeeded; its job is claimable) → one of
 * the terminal states. `running` is reported by getDag from the job row (the claim path does
 * not touch dag_nodes, which keeps claiming as cheap for DAG jobs as for single jobs).
 */
export const DagNodeState = {
  waiting: 'waiting',
  available: 'available',
  running: 'running',
  succeeded: 'succeeded',
  failed: 'failed',
  cancelled: 'cancelled',
  skipped: 'skipped',
} as const;
export type DagNodeState = (typeof DagNodeState)[keyof typeof DagNodeState];

export const TERMINAL_NODE_STATES: readonly DagNodeState[] = ['succeeded', 'failed', 'cancelled', 'skipped'];

export const DagFailurePolicy = {
  /** A node that fails for good cancels every node that has not started; running nodes finish. */
  failFast: 'fail_fast',
  /** A node that fails for good skips only its descendants; independent branches run on. */
  continue: 'continue',
} as const;
export type DagFailurePolicy = (typeof DagFailurePolicy)[keyof typeof DagFailurePolicy];

/**
 * DAG event names: CloudEvents type `dev.jobline.dag.<event>`, subject
 * `jobline.dag.<event>.<dagRunId>`. Underscored so a subject keeps its token positions.
 */
export const DagEvent = {
  runCreated: 'run_created',
  runSucceeded: 'run_succeeded',
  runFailed: 'run_failed',
  runCancelled: 'run_cancelled',
  nodeReady: 'node_ready',
  nodeSucceeded: 'node_succeeded',
  nodeFailed: 'node_failed',
  nodeSkipped: 'node_skipped',
  nodeCancelled: 'node_cancelled',
} as const;
export type DagEvent = (typeof DagEvent)[keyof typeof DagEvent];

/**
 * Node keys appear in `$ref` paths (`key.output.field`) and in comma-joined SQL parameters, so
 * they are limited to letters, digits, `_` and `-` (no dots, no commas).
 */
export const DagNodeKey = z
  .string()
  .regex(/^[A-Za-z0-9_-]{1,128}$/, 'node keys use 1-128 letters, digits, "_" or "-"');

export const DagNodeSpecSchema = z
  .strictObject({
    key: DagNodeKey,
    /** @default the definition's queue, else 'default' */
    queue: QueueName.optional(),
    /** Handler name; may be omitted when `definition` is given (the definition's name is used). */
    name: JobName.optional(),
    /** A job definition (`name` or `name@version`) whose defaults and input schema apply. */
    definition: z.string().min(1).max(200).optional(),
    /** The job input. Values `{"$ref": "<parentKey>.output[.path]"}` are replaced by parent outputs at release. */
    input: z.unknown().optional(),
    /** Keys of the nodes that must succeed before this one starts. */
    dependsOn: z.array(DagNodeKey).default([]),
    /** Lower runs first among claimable jobs of the queue. @default 0 */
    priority: z.number().int().min(-1_000_000).max(1_000_000).optional(),
    /** The node job's group (e.g. a tenant): per-group limits and fair claiming apply to it. */
    group: z.string({ error: 'group must be a string (e.g. a tenant id)' }).min(1, 'group must be a non-empty string').max(255).optional(),
    ...RetryTimeoutFields,
  })
  .refine((n) => n.name !== undefined || n.definition !== undefined, {
    message: 'give a job name, or a definition whose name is used',
    path: ['name'],
  });
export type DagNodeSpec = z.input<typeof DagNodeSpecSchema>;
export type ParsedDagNodeSpec = z.output<typeof DagNodeSpecSchema>;

export const DagSpecSchema = z.strictObject({
  /** A label for humans and events; not unique. */
  name: z.string().min(1, 'name must not be empty').max(200, 'name is at most 200 characters'),
  /** What a node that fails for good does to the rest of the run. @default 'fail_fast' */
  failurePolicy: z.enum(['fail_fast', 'continue'], { error: 'failurePolicy must be "fail_fast" or "continue"' }).default('fail_fast'),
  /** A repeated submission with this key returns the existing run instead of creating one. */
  idempotencyKey: z.string().min(1).max(255).optional(),
  nodes: z.array(DagNodeSpecSchema).min(1, 'a DAG needs at least one node'),
});
export type DagSpec = z.input<typeof DagSpecSchema>;
export type ParsedDagSpec = z.output<typeof DagSpecSchema>;

export interface DagLimits {
  /** Most nodes in one run. @default 10000 */
  maxNodes: number;
  /** Most dependency edges in one run. @default 100000 */
  maxEdges: number;
  /** Largest node input, as JSON bytes (the instance's maxInputBytes). */
  maxInputBytes: number;
}

export const DEFAULT_DAG_MAX_NODES = 10_000;
export const DEFAULT_DAG_MAX_EDGES = 100_000;
