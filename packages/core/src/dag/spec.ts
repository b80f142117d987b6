/**
 * The DAG submission contract (DESIGN §4): zod schemas shared by the library, the producer API
 * and the CLI, and the const-object enums for run and node states, policies and events.
 */
import { z } from 'zod';
import { JobName, QueueName, RetryTimeoutFields } from '../schemas.js';

import { DagFailurePolicy } from '../model/states.js';

export { DagRunState, DagNodeState, DagNodeTerminal, DagFailurePolicy } from '../model/states.js';
export { DagEvent } from '../model/events.js';

/**
 * Node keys appear in `$ref` paths (`key.output.field`) and in comma-joined SQL parameters, so
 * they are limited to letters, digits, `_` and `-` (no dots, no commas).
 */
export const DagNodeKey = z.string().regex(/^[A-Za-z0-9_-]{1,128}$/, 'node keys use 1-128 letters, digits, "_" or "-"');

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
  failurePolicy: z
    .enum([DagFailurePolicy.failFast, DagFailurePolicy.continue], { error: 'failurePolicy must be "fail_fast" or "continue"' })
    .default(DagFailurePolicy.failFast),
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
