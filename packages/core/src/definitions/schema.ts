/**
 * Job definitions: the registry of what can run (DESIGN §2, `job_definitions`). A definition
 * names an executor — `handler` (code in a worker's handler module, looked up by name) or
 * `process` (a command the worker spawns) — plus default env, resource hints, an input JSON
 * schema and default retry/timeout. Versions are immutable once written: a changed definition
 * is a new version, and a job enqueued by definition is pinned to the version it was validated
 * against (`jobs.definition = 'name@version'`), so a later change never alters queued work.
 */
import { z } from 'zod';
import { QueueName, RetryTimeoutFields } from '../schemas.js';
import { compileInputSchema } from './compile.js';

export const DefinitionExecutor = {
  handler: 'handler',
  process: 'process',
} as const;
export type DefinitionExecutor = (typeof DefinitionExecutor)[keyof typeof DefinitionExecutor];

/** Definition names appear in refs (`name@version`), so `@` is excluded. */
export const DefinitionName = z
  .string()
  .regex(/^[A-Za-z0-9_.:-]{1,200}$/, 'definition names use 1-200 letters, digits, "_", ".", ":" or "-"');

const EnvName = z.string().regex(/^[A-Za-z_][A-Za-z0-9_]{0,127}$/, 'environment variable names use letters, digits and "_", not starting with a digit');
// PostgreSQL text cannot hold NUL; neither can a process argument or environment value.
const NoNul = (max: number) => z.string().max(max).refine((v) => !v.includes('\0'), 'must not contain NUL characters');

export const DefinitionDefaultsSchema = z.strictObject({
  /** Queue used when the job does not name one. */
  queue: QueueName.optional(),
  priority: z.number().int().min(-1_000_000).max(1_000_000).optional(),
  ...RetryTimeoutFields,
});

export const DefinitionSpecSchema = z
  .strictObject({
    name: DefinitionName,
    /** Omit to create the next version (or get the latest back unchanged when it is identical). */
    version: z.number().int().min(1).max(1_000_000).optional(),
    executor: z.enum(['handler', 'process'], { error: 'executor must be "handler" or "process"' }),
    /** Process jobs: the program to run (resolved on the worker's PATH). */
    command: NoNul(4096).min(1).optional(),
    args: z.array(NoNul(65_536)).max(1000).default([]),
    /** Environment given to process jobs, on top of a minimal base (PATH, HOME, LANG, TZ). */
    env: z.record(EnvName, NoNul(65_536)).default({}),
    /** Names of the worker's own environment variables passed through to process jobs (secrets stay out of the database). */
    secretEnv: z.array(EnvName).max(200).default([]),
    /** Resource hints for schedulers and humans, e.g. `{ "cpu": 0.5, "memoryMb": 256 }`. */
    resources: z.record(z.string().max(100), z.union([z.number(), NoNul(200)])).default({}),
    /** JSON Schema (2020-12 subset zod understands) that every job input must satisfy. */
    inputSchema: z.record(z.string(), z.unknown()).optional(),
    defaults: DefinitionDefaultsSchema.default({}),
  })
  .superRefine((d, ctx) => {
    if (d.executor === 'process' && d.command === undefined) {
      ctx.addIssue({ code: 'custom', path: ['command'], message: 'process definitions need a command' });
    }
    if (d.executor === 'handler' && d.command !== undefined) {
      ctx.addIssue({ code: 'custom', path: ['command'], message: 'handler definitions run worker code by name; remove command or use executor "process"' });
    }
    if (d.inputSchema !== undefined) {
      try {
        compileInputSchema(d.inputSchema);
      } catch (err) {
        ctx.addIssue({ code: 'custom', path: ['inputSchema'], message: `is not a usable JSON Schema: ${(err as Error).message}` });
      }
    }
  });
export type DefinitionSpec = z.input<typeof DefinitionSpecSchema>;
export type ParsedDefinitionSpec = z.output<typeof DefinitionSpecSchema>;

export interface Definition {
  name: string;
  version: number;
  executor: DefinitionExecutor;
  command?: string;
  args: string[];
  env: Record<string, string>;
  secretEnv: string[];
  resources: Record<string, number | string>;
  inputSchema?: Record<string, unknown>;
  defaults: z.output<typeof DefinitionDefaultsSchema>;
  createdAt: Date;
}

/** `name` (latest version) or `name@version`. */
export interface DefinitionRef {
  name: string;
  version?: number;
}

export function parseDefinitionRef(ref: string): DefinitionRef | undefined {
  const m = /^([A-Za-z0-9_.:-]{1,200})(?:@([1-9][0-9]{0,6}))?$/.exec(ref);
  if (!m) return undefined;
  return m[2] === undefined ? { name: m[1] } : { name: m[1], version: Number(m[2]) };
}

export const formatDefinitionRef = (d: { name: string; version: number }): string => `${d.name}@${d.version}`;
