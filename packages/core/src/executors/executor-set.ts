/**
 * The executors of one worker, by kind, and what the worker advertises: the kinds it runs and
 * the most resources one job may ask of it (its `workers` row; the claim filter).
 */
import { z } from 'zod';
import type { Definition } from '../definitions/schema.js';
import type { ClaimFilter } from './types.js';
import { parseOrThrow } from '../schemas.js';
import { ContainerExecutor, type ContainerExecutorOptions } from './container.js';
import { HandlerExecutor, type HandlerFunction } from './handler.js';
import { ProcessExecutor, type ProcessExecutorOptions } from './process.js';
import {
  EXECUTOR_KINDS,
  type ExecutionContext,
  type Executor,
  type ExecutorHooks,
  type ExecutorKind,
  type WorkerResources,
} from './types.js';

export interface ExecutorsOptions {
  /** Process jobs on this worker's host; false = this worker does not run them. @default {} (on) */
  process?: ProcessExecutorOptions | false;
  /** Container jobs through the Docker Engine API; true or options = on (the engine must answer at start). @default false */
  container?: ContainerExecutorOptions | boolean;
  /** Handler jobs by definition (functions of the handler module); false = off. @default true */
  handler?: boolean;
  /** The most one job may ask of this worker; jobs whose definition asks more are left to other workers. @default no limit */
  resources?: WorkerResources;
  /** Executors that replace the built-in one of their kind (e.g. a different container runtime). */
  custom?: Executor[];
}

const Schema = z.strictObject({
  process: z.union([z.literal(false), z.record(z.string(), z.unknown())]).optional(),
  container: z.union([z.boolean(), z.record(z.string(), z.unknown())]).optional(),
  handler: z.boolean().optional(),
  resources: z
    .strictObject({
      cpu: z.number().positive().optional(),
      memoryMb: z.number().int().positive().optional(),
    })
    .optional(),
  custom: z
    .array(
      z.custom<Executor>(
        (v) => typeof (v as Executor)?.run === 'function' && EXECUTOR_KINDS.includes((v as Executor)?.kind),
        'an Executor with a known kind and run()',
      ),
    )
    .optional(),
});

export class ExecutorSet {
  private readonly byKind = new Map<ExecutorKind, Executor>();
  readonly resources: WorkerResources;

  constructor(handlers: Record<string, HandlerFunction>, options: ExecutorsOptions = {}) {
    const o = parseOrThrow(Schema, options, 'executors') as ExecutorsOptions;
    if (o.handler !== false) this.byKind.set('handler', new HandlerExecutor(handlers));
    if (o.process !== false) this.byKind.set('process', new ProcessExecutor(o.process ?? {}));
    if (o.container) this.byKind.set('container', new ContainerExecutor(o.container === true ? {} : o.container));
    for (const e of o.custom ?? []) this.byKind.set(e.kind, e);
    this.resources = o.resources ?? {};
  }

  get kinds(): ExecutorKind[] {
    return EXECUTOR_KINDS.filter((k) => this.byKind.has(k));
  }

  get(kind: ExecutorKind): Executor | undefined {
    return this.byKind.get(kind);
  }

  /** False when this worker runs every kind with no resource limit: then no definition is beyond it. */
  get restricted(): boolean {
    return this.kinds.length < EXECUTOR_KINDS.length || this.resources.cpu !== undefined || this.resources.memoryMb !== undefined;
  }

  /** The shape of queue/claim.ts's ClaimFilter, written out so executors need not import the queue layer. */
  claimFilter(): { kinds: readonly string[]; cpu?: number; memoryMb?: number } {
    return { kinds: this.kinds, cpu: this.resources.cpu, memoryMb: this.resources.memoryMb };
  }

  /** Why this worker cannot run a definition, or undefined when it can. */
  cannotRun(d: Definition): string | undefined {
    if (!this.byKind.has(d.executor)) return `it does not run ${d.executor} jobs (it runs: ${this.kinds.join(', ')})`;
    const { cpu, memoryMb } = d.resources;
    if (typeof cpu === 'number' && this.resources.cpu !== undefined && cpu > this.resources.cpu)
      return `the job asks for ${cpu} CPUs and it offers ${this.resources.cpu}`;
    if (typeof memoryMb === 'number' && this.resources.memoryMb !== undefined && memoryMb > this.resources.memoryMb) {
      return `the job asks for ${memoryMb} MB of memory and it offers ${this.resources.memoryMb}`;
    }
    return undefined;
  }

  run(d: Definition, input: unknown, ctx: ExecutionContext): Promise<unknown> {
    return this.byKind.get(d.executor)!.run(d, input, ctx);
  }

  async start(hooks: ExecutorHooks): Promise<void> {
    for (const e of this.byKind.values()) await e.start?.(hooks);
  }

  async afterRescue(hooks: ExecutorHooks): Promise<void> {
    for (const e of this.byKind.values()) await e.afterRescue?.(hooks);
  }

  async stop(): Promise<void> {
    await Promise.all([...this.byKind.values()].map((e) => e.stop?.()));
  }

  capabilities() {
    return [...this.byKind.values()].map((e) => e.capabilities());
  }
}
