/**
 * Worker configuration from environment variables, overridden by flags
 * (`--queues a,b --concurrency N --handlers ./h.js --port P`), validated once with zod: one
 * line per bad variable or flag.
 */
import { z } from 'zod';
import { QueueName } from '@jobline/core/schemas';

const SECRET_VARS = new Set(['DATABASE_URL']);
const int = (min: number, max: number) => z.coerce.number().int('must be an integer').min(min).max(max);
const onOff = z.enum(['on', 'off'], { error: 'must be "on" or "off"' });

const EnvSchema = z.object({
  DATABASE_URL: z
    .string()
    .regex(/^postgres(ql)?:\/\//, 'must be a postgres:// or postgresql:// connection string')
    .optional(),
  JOBLINE_SCHEMA: z
    .string()
    .regex(/^[a-z_][a-z0-9_]{0,62}$/, 'must be a lowercase PostgreSQL schema name (letters, digits, _; max 63)')
    .default('jobline'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  LOG_FORMAT: z.enum(['json', 'pretty']).default('json'),
  /** Health and metrics port. Unset: 9090 when free (else none, with a warning); "off": none. */
  PORT: z.union([z.literal('off'), int(0, 65535)], { error: 'must be a port number (0-65535) or "off"' }).optional(),
  HOST: z.string().min(1).default('0.0.0.0'),
  JOBLINE_QUEUES: z
    .string()
    .default('default')
    .transform((s) =>
      s
        .split(',')
        .map((q) => q.trim())
        .filter(Boolean),
    )
    .pipe(z.array(QueueName).min(1, 'give at least one queue')),
  JOBLINE_CONCURRENCY: int(1, 10_000).default(10),
  JOBLINE_HANDLERS: z.string().min(1).optional(),
  JOBLINE_WORKER_ID: z.string().min(1).max(200).optional(),
  JOBLINE_SHUTDOWN_GRACE_MS: int(0, 3_600_000).default(10_000),
  JOBLINE_KILL_GRACE_MS: int(0, 600_000).default(2000),
  JOBLINE_BACKOFF_BASE_MS: int(0, 86_400_000).optional(),
  JOBLINE_BACKOFF_MAX_MS: int(0, 86_400_000).optional(),
  JOBLINE_POOL_SIZE: int(1, 1000).optional(),
  JOBLINE_MIGRATE: onOff.default('on'),
  JOBLINE_MAINTENANCE: onOff.default('on'),
  /** Executor kinds this worker runs; "container" needs the Docker Engine API at JOBLINE_DOCKER_SOCKET / DOCKER_HOST. */
  JOBLINE_EXECUTORS: z
    .string()
    .default('handler,process')
    .transform((s) =>
      s
        .split(',')
        .map((k) => k.trim())
        .filter(Boolean),
    )
    .pipe(
      z
        .array(z.enum(['handler', 'process', 'container'], { error: 'each executor must be handler, process or container' }))
        .min(1, 'give at least one executor kind'),
    ),
  /** The most CPUs / MB of memory one job may ask of this worker (unset: no limit). */
  JOBLINE_WORKER_CPU: z.coerce.number().positive('must be a positive number of CPUs').optional(),
  JOBLINE_WORKER_MEMORY_MB: int(1, 16 * 1024 * 1024).optional(),
  /** Network mode of container jobs whose definition names none (unset: the engine's default). */
  JOBLINE_CONTAINER_NETWORK: z
    .string()
    .regex(/^[A-Za-z0-9_.:-]{1,200}$/, 'must be a network mode such as none, bridge or host')
    .optional(),
});

export type WorkerConfig = z.output<typeof EnvSchema>;

/** Flag → the variable it overrides. */
export const FLAGS = {
  queues: 'JOBLINE_QUEUES',
  concurrency: 'JOBLINE_CONCURRENCY',
  handlers: 'JOBLINE_HANDLERS',
  port: 'PORT',
  host: 'HOST',
  id: 'JOBLINE_WORKER_ID',
  'shutdown-grace-ms': 'JOBLINE_SHUTDOWN_GRACE_MS',
  'kill-grace-ms': 'JOBLINE_KILL_GRACE_MS',
  'backoff-base-ms': 'JOBLINE_BACKOFF_BASE_MS',
  'backoff-max-ms': 'JOBLINE_BACKOFF_MAX_MS',
  executors: 'JOBLINE_EXECUTORS',
} as const;

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

export function loadWorkerConfig(env: NodeJS.ProcessEnv, flags: Partial<Record<keyof typeof FLAGS, string>> = {}): WorkerConfig {
  const merged: NodeJS.ProcessEnv = { ...env };
  const origin: Record<string, string> = {};
  for (const [flag, name] of Object.entries(FLAGS)) {
    const v = flags[flag as keyof typeof FLAGS];
    if (v !== undefined) {
      merged[name] = v;
      origin[name] = `--${flag}`;
    }
  }
  const r = EnvSchema.safeParse(merged);
  if (r.success) return r.data;
  throw new ConfigError(
    r.error.issues.map((i) => {
      const name = String(i.path[0]);
      const got = SECRET_VARS.has(name) ? '' : ` (got ${JSON.stringify(merged[name])})`;
      return `${origin[name] ?? name}: ${i.message}${got}`;
    }),
  );
}
