/**
 * Job definitions: the registry of what can run (DESIGN §2, `job_definitions`). A definition
 * names an executor — `handler` (code in a worker's handler module, looked up by name),
 * `process` (a command the worker spawns) or `container` (an image the worker runs through the
 * Docker Engine API) — plus default env, resources, an input JSON schema and default
 * retry/timeout. Versions are immutable once written: a changed definition
 * is a new version, and a job enqueued by definition is pinned to the version it was validated
 * against (`jobs.definition = 'name@version'`), so a later change never alters queued work.
 */
import { z } from 'zod';
import { QueueName, RetryTimeoutFields } from '../schemas.js';
import { compileInputSchema } from './compile.js';
import { ExecutorKind } from '../model/states.js';

/** The executor kinds a definition may name (`job_definitions.executor`, one list in model/). */
export const DefinitionExecutor = ExecutorKind;
export type DefinitionExecutor = ExecutorKind;

/** Definition names appear in refs (`name@version`), so `@` is excluded. */
export const DefinitionName = z
  .string()
  .regex(/^[A-Za-z0-9_.:-]{1,200}$/, 'definition names use 1-200 letters, digits, "_", ".", ":" or "-"');

const EnvName = z
  .string()
  .regex(/^[A-Za-z_][A-Za-z0-9_]{0,127}$/, 'environment variable names use letters, digits and "_", not starting with a digit');
// PostgreSQL text cannot hold NUL; neither can a process argument or environment value.
const NoNul = (max: number) =>
  z
    .string()
    .max(max)
    .refine((v) => !v.includes('\0'), 'must not contain NUL characters');

export const DefinitionDefaultsSchema = z.strictObject({
  /** Queue used when the job does not name one. */
  queue: QueueName.optional(),
  priority: z.number().int().min(-1_000_000).max(1_000_000).optional(),
  ...RetryTimeoutFields,
});

/** Container executor settings (`job_definitions.container`). */
export const ContainerSettingsSchema = z.strictObject({
  /** How the job input reaches the program: JSON on stdin, or a JSON file at `inputPath`. @default 'stdin' */
  input: z.enum(['stdin', 'file'], { error: 'input must be "stdin" or "file"' }).default('stdin'),
  /** Where the input file is put when `input` is "file" (its path is also in JOBLINE_INPUT_FILE). @default '/jobline/input.json' */
  inputPath: z
    .string()
    .regex(/^\/[^\0]{1,1000}$/, 'must be an absolute path in the container')
    .optional(),
  /** Read the output from this file in the container after it exits, instead of from stdout. */
  outputPath: z
    .string()
    .regex(/^\/[^\0]{1,1000}$/, 'must be an absolute path in the container')
    .optional(),
  /** `never`: the image must be on the engine already; `if-missing`: pull it when absent. @default 'if-missing' */
  pullPolicy: z.enum(['never', 'if-missing'], { error: 'pullPolicy must be "never" or "if-missing"' }).default('if-missing'),
});
export type ContainerSettings = z.output<typeof ContainerSettingsSchema>;

/** Resources with a meaning to the executors and to claiming; other keys are hints, kept as written. */
const KNOWN_RESOURCES = {
  cpu: z.number().positive().max(1024, 'at most 1024 CPUs'),
  memoryMb: z
    .number()
    .int()
    .positive()
    .max(16 * 1024 * 1024, 'at most 16 TiB'),
  network: z.string().regex(/^[A-Za-z0-9_.:-]{1,200}$/, 'a network mode such as "none", "bridge", "host" or a network name'),
} as const;

export const DefinitionSpecSchema = z
  .strictObject({
    name: DefinitionName,
    /** Omit to create the next version (or get the latest back unchanged when it is identical). */
    version: z.number().int().min(1).max(1_000_000).optional(),
    executor: z.enum(['handler', 'process', 'container'], { error: 'executor must be "handler", "process" or "container"' }),
    /** Container jobs: the image to run, e.g. `localhost/tool:1.2` (never pulled with pullPolicy "never"). */
    image: z
      .string()
      .regex(/^[a-z0-9][A-Za-z0-9._/:@-]{0,499}$/, 'an image reference such as "registry/name:tag" or "name@sha256:…"')
      .optional(),
    /** Process jobs: the program to run (resolved on the worker's PATH). Container jobs: replaces the image's entrypoint. */
    command: NoNul(4096).min(1).optional(),
    args: z.array(NoNul(65_536)).max(1000).default([]),
    /** Environment given to process jobs, on top of a minimal base (PATH, HOME, LANG, TZ). */
    env: z.record(EnvName, NoNul(65_536)).default({}),
    /** Names of the worker's own environment variables passed through to process jobs (secrets stay out of the database). */
    secretEnv: z.array(EnvName).max(200).default([]),
    /**
     * `cpu` (cores), `memoryMb` and `network` (container network mode) are applied to container
     * jobs and matched against what a worker offers when it claims; other keys are hints.
     */
    resources: z.record(z.string().max(100), z.union([z.number(), NoNul(200)])).default({}),
    /** Container jobs: input/output and pull policy. */
    container: ContainerSettingsSchema.optional(),
    /** JSON Schema (2020-12 subset zod understands) that every job input must satisfy. */
    inputSchema: z.record(z.string(), z.unknown()).optional(),
    defaults: DefinitionDefaultsSchema.default({}),
  })
  .superRefine((d, ctx) => {
    if (d.executor === 'process' && d.command === undefined) {
      ctx.addIssue({ code: 'custom', path: ['command'], message: 'process definitions need a command' });
    }
    if (d.executor === 'handler' && d.command !== undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['command'],
        message: 'handler definitions run worker code by name; remove command or use executor "process"',
      });
    }
    if (d.executor === 'container' && d.image === undefined) {
      ctx.addIssue({ code: 'custom', path: ['image'], message: 'container definitions need an image' });
    }
    if (d.executor !== 'container' && d.image !== undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['image'],
        message: 'only container definitions run an image; remove image or use executor "container"',
      });
    }
    if (d.executor !== 'container' && d.container !== undefined) {
      ctx.addIssue({ code: 'custom', path: ['container'], message: 'container settings apply to executor "container" only' });
    }
    if (d.container?.input !== 'file' && d.container?.inputPath !== undefined) {
      ctx.addIssue({ code: 'custom', path: ['container', 'inputPath'], message: 'inputPath needs input "file"' });
    }
    for (const [key, schema] of Object.entries(KNOWN_RESOURCES)) {
      if (!(key in d.resources)) continue;
      const r = (schema as z.ZodType).safeParse(d.resources[key]);
      if (!r.success) ctx.addIssue({ code: 'custom', path: ['resources', key], message: r.error.issues[0]!.message });
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
  image?: string;
  command?: string;
  args: string[];
  env: Record<string, string>;
  secretEnv: string[];
  resources: Record<string, number | string>;
  container?: ContainerSettings;
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
