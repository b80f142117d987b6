/**
 * Typed jobs: declare which job names exist and their input/output types once, and enqueue,
 * enqueueMany, submitDag node specs, worker handlers and getJob(...).output are checked at
 * compile time — a wrong input or an unknown job name does not compile (test/types/).
 *
 *   type Jobs = {
 *     'send-email': { input: { to: string }; output: { messageId: string } };
 *     resize: { input: { url: string; width: number }; output: { url: string } };
 *   };
 *   const jl = await Jobline.connect<Jobs>();
 *
 * or, from schemas you already have (zod 4, valibot, arktype: anything Standard Schema):
 *
 *   const jobs = { 'send-email': { input: z.object({ to: z.email() }), output: z.object({ messageId: z.string() }) } };
 *   const jl = await Jobline.connect<JobsFromSchemas<typeof jobs>>();
 *
 * Types only: the object at run time is the same Jobline (nothing is validated beyond what
 * Jobline always checks). Without a type argument `Jobline.connect()` is untyped, as before.
 */
import type { Job } from './model/job.js';
import type { DagNodeSpec, DagSpec } from './dag/index.js';
import type { JobSpec } from './schemas.js';
import type { JobContext } from './worker/run-attempt.js';
import type { WorkerOptions } from './worker/options.js';

/** One job's types. Omitted `input`/`output` mean `undefined`/`unknown`. */
export interface JobType {
  input?: unknown;
  output?: unknown;
}

/** Job name → its input and output types. */
export type JobTypes = Record<string, JobType>;

/** The declared names of a job map. */
export type JobNameOf<J extends JobTypes> = Extract<keyof J, string>;
export type JobInput<J extends JobTypes, N extends JobNameOf<J>> = J[N] extends { input: infer I } ? I : undefined;
export type JobOutput<J extends JobTypes, N extends JobNameOf<J>> = J[N] extends { output: infer O } ? O : unknown;

/** `input` is required unless the declared input admits `undefined`. */
type InputField<I> = undefined extends I ? { input?: I } : { input: I };

/** A job to enqueue: a declared name and its input; the other JobSpec fields as usual. */
export type TypedJobSpec<J extends JobTypes, N extends JobNameOf<J> = JobNameOf<J>> = {
  [K in N]: Omit<JobSpec, 'name' | 'input' | 'definition'> & { name: K } & InputField<JobInput<J, K>>;
}[N];

/** A job row whose `name` tells its input and output types (narrow on `job.name`). */
export type TypedJob<J extends JobTypes, N extends JobNameOf<J> = JobNameOf<J>> = {
  [K in N]: Job<JobInput<J, K>, JobOutput<J, K>> & { name: K };
}[N];

/** A DAG input value: the declared type, where any part may instead be a parent's `$ref`. */
export type DagRef = { $ref: `${string}.output${string}` };
export type WithRefs<T> =
  | DagRef
  | (T extends readonly (infer E)[] ? WithRefs<E>[] : T extends object ? { [K in keyof T]: WithRefs<T[K]> } : T);

/** A DAG node: a declared job name and its input (parts of which may be `$ref`s). */
export type TypedDagNodeSpec<J extends JobTypes, N extends JobNameOf<J> = JobNameOf<J>> = {
  [K in N]: Omit<DagNodeSpec, 'name' | 'input' | 'definition'> & { name: K } & InputField<WithRefs<JobInput<J, K>>>;
}[N];

export type TypedDagSpec<J extends JobTypes> = Omit<DagSpec, 'nodes'> & { nodes: TypedDagNodeSpec<J>[] };

/** A handler for job `N`: gets its input, must return its output. */
export type TypedHandler<J extends JobTypes, N extends JobNameOf<J>> = (
  input: JobInput<J, N>,
  ctx: JobContext<JobInput<J, N>>,
) => Promise<JobOutput<J, N>> | JobOutput<J, N>;

/** Handlers for some or all declared jobs; a name that is not declared does not compile. */
export type TypedHandlers<J extends JobTypes> = { [N in JobNameOf<J>]?: TypedHandler<J, N> };

export type TypedWorkerOptions<J extends JobTypes> = Omit<WorkerOptions, 'handlers'> & { handlers?: TypedHandlers<J> };

/** The type a Standard Schema (zod 4, valibot, arktype, …) validates to. */
type SchemaOutput<S> = S extends { readonly '~standard': { readonly types?: infer T } }
  ? NonNullable<T> extends { readonly output: infer O }
    ? O
    : unknown
  : unknown;

/** Job types from schemas: `{ name: { input: schema, output?: schema } }` → JobTypes. */
export type JobsFromSchemas<S extends Record<string, { input?: unknown; output?: unknown }>> = {
  [N in keyof S]: {
    input: S[N] extends { input: infer I } ? SchemaOutput<I> : undefined;
    output: S[N] extends { output: infer O } ? SchemaOutput<O> : unknown;
  };
};
