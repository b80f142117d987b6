/**
 * Producer configuration: environment variables (and flags that override them), validated once
 * at start with one clear line per bad variable.
 */
import { z } from 'zod';
import { ApiTokensSchema, type ApiToken } from './auth.js';

const SECRET_VARS = new Set(['DATABASE_URL', 'JOBLINE_API_TOKENS']);

const LogLevel = z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']);

const EnvSchema = z.object({
  DATABASE_URL: z
    .string()
    .regex(/^postgres(ql)?:\/\//, 'must be a postgres:// or postgresql:// connection string')
    .optional(),
  PORT: z.coerce.number().int('must be an integer').min(0).max(65535, 'must be a port number (0-65535)').default(8080),
  HOST: z.string().min(1).default('0.0.0.0'),
  LOG_LEVEL: LogLevel.default('info'),
  LOG_FORMAT: z.enum(['json', 'pretty']).default('json'),
  JOBLINE_SCHEMA: z
    .string()
    .regex(/^[a-z_][a-z0-9_]{0,62}$/, 'must be a lowercase PostgreSQL schema name (letters, digits, _; max 63)')
    .default('jobline'),
  JOBLINE_AUTH: z.enum(['on', 'off'], { error: 'must be "on" or "off" ("off" only for local development)' }).default('on'),
  JOBLINE_API_TOKENS: z.string().optional(),
  JOBLINE_MAX_BODY_BYTES: z.coerce
    .number()
    .int()
    .min(1024)
    .max(256 * 1024 * 1024)
    .default(4 * 1024 * 1024),
  JOBLINE_MAX_INPUT_BYTES: z.coerce
    .number()
    .int()
    .min(16)
    .max(256 * 1024 * 1024)
    .default(1024 * 1024),
  JOBLINE_MIGRATE: z.enum(['on', 'off'], { error: 'must be "on" or "off"' }).default('on'),
  JOBLINE_VALIDATE_RESPONSES: z.enum(['on', 'off'], { error: 'must be "on" or "off"' }).default('off'),
  JOBLINE_POOL_SIZE: z.coerce.number().int().min(1).max(1000).default(10),
});

export interface ProducerConfig {
  databaseUrl?: string;
  port: number;
  host: string;
  logLevel: z.output<typeof LogLevel>;
  logFormat: 'json' | 'pretty';
  schema: string;
  /** undefined = auth off (JOBLINE_AUTH=off). */
  tokens: ApiToken[] | undefined;
  maxBodyBytes: number;
  maxInputBytes: number;
  poolSize: number;
  /** Apply pending migrations at start (off when the role may not run DDL). */
  migrate: boolean;
  /** Check every response against its schema (tests, staging). */
  validateResponses: boolean;
}

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

/** Reads and validates the environment; throws ConfigError listing every bad variable. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): ProducerConfig {
  const r = EnvSchema.safeParse(env);
  const problems: string[] = [];
  if (!r.success) {
    for (const i of r.error.issues) {
      const name = String(i.path[0]);
      // Connection strings and tokens carry secrets: never echo them.
      const got = SECRET_VARS.has(name) ? '' : ` (got ${JSON.stringify(env[name])})`;
      problems.push(`${name}: ${i.message}${got}`);
    }
    throw new ConfigError(problems);
  }
  const e = r.data;
  let tokens: ApiToken[] | undefined;
  if (e.JOBLINE_AUTH === 'on') {
    if (!e.JOBLINE_API_TOKENS) {
      problems.push(
        'JOBLINE_API_TOKENS: is not set, so no request could be authorised. Set it to a JSON array like ' +
          '[{"name":"ci","token":"<secret>","queues":["*"],"scopes":["read","write"]}] ' +
          '(see apps/README.md), or set JOBLINE_AUTH=off for local development only',
      );
    } else {
      tokens = parseTokens(e.JOBLINE_API_TOKENS, problems);
    }
  }
  if (problems.length) throw new ConfigError(problems);
  return {
    databaseUrl: e.DATABASE_URL,
    port: e.PORT,
    host: e.HOST,
    logLevel: e.LOG_LEVEL,
    logFormat: e.LOG_FORMAT,
    schema: e.JOBLINE_SCHEMA,
    tokens,
    maxBodyBytes: e.JOBLINE_MAX_BODY_BYTES,
    maxInputBytes: e.JOBLINE_MAX_INPUT_BYTES,
    poolSize: e.JOBLINE_POOL_SIZE,
    migrate: e.JOBLINE_MIGRATE === 'on',
    validateResponses: e.JOBLINE_VALIDATE_RESPONSES === 'on',
  };
}

function parseTokens(text: string, problems: string[]): ApiToken[] | undefined {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    problems.push(
      `JOBLINE_API_TOKENS: is not valid JSON (${(err as Error).message}); expected an array of {name, token|sha256, queues, scopes}`,
    );
    return undefined;
  }
  const r = ApiTokensSchema.safeParse(json);
  if (!r.success) {
    // Never echo the value: it holds secrets.
    for (const i of r.error.issues) problems.push(`JOBLINE_API_TOKENS: [${i.path.join('.')}] ${i.message}`);
    return undefined;
  }
  return r.data;
}
