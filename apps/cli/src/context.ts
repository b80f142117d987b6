import type { ParseArgsConfig } from 'node:util';
import { Jobline } from '@jobline/core';
import { createPool, quoteSchema } from '@jobline/core/admin';
import { createAppLogger } from '@jobline/core/observability';
import { UsageError } from './errors.js';

export type Options = NonNullable<ParseArgsConfig['options']>;
export type Values = Record<string, string | boolean | string[] | boolean[] | undefined>;

export interface CommandInput {
  values: Values;
  positionals: string[];
  /** --json: machine-readable output on stdout. */
  json: boolean;
  /** Arguments after the command name, unparsed (for commands that pass them on). */
  rest: string[];
}

export interface Command {
  name: string;
  summary: string;
  /** Usage lines after `jobline `. */
  usage: string;
  /** Longer help: options and examples. */
  help: string;
  options?: Options;
  /** Parse nothing: hand every argument to `run` as `rest` (producer, worker, bench). */
  passThrough?: boolean;
  run(input: CommandInput): Promise<number>;
}

/**
 * A Jobline for commands that work on an existing database. They need DATABASE_URL: without it
 * the library would start an embedded PostgreSQL that vanishes when the command ends.
 */
export async function connect(opts: { migrate?: boolean } = {}): Promise<Jobline> {
  if (!process.env.DATABASE_URL) {
    throw new UsageError(
      'DATABASE_URL is not set: point it at the Jobline database (e.g. postgres://user@host:5432/db). `jobline demo` runs without one.',
    );
  }
  const logger = createAppLogger({ level: process.env.LOG_LEVEL ?? 'warn', pretty: process.env.LOG_FORMAT !== 'json', name: 'cli' });
  return Jobline.connect({ migrate: opts.migrate ?? false, logger, poolSize: 4 });
}

/** A pool on DATABASE_URL and the schema, for commands that must not check the schema's version. */
export async function rawPool(): Promise<{ pool: ReturnType<typeof createPool>; schema: string }> {
  if (!process.env.DATABASE_URL)
    throw new UsageError('DATABASE_URL is not set: point it at the Jobline database (e.g. postgres://user@host:5432/db).');
  const schema = process.env.JOBLINE_SCHEMA ?? 'jobline';
  quoteSchema(schema);
  return { pool: createPool({ connectionString: process.env.DATABASE_URL, max: 2, applicationName: 'jobline-cli' }), schema };
}

/** Parses a positive integer id argument. */
export function parseId(s: string | undefined, what = 'id'): number {
  if (s === undefined) throw new UsageError(`give a ${what}`);
  if (!/^[1-9][0-9]{0,15}$/.test(s) || !Number.isSafeInteger(Number(s)))
    throw new UsageError(`${what} must be a positive integer (got ${JSON.stringify(s)})`);
  return Number(s);
}

export function intOption(v: unknown, name: string, min: number, max: number): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (typeof v !== 'string' || !/^-?\d+$/.test(v) || n < min || n > max)
    throw new UsageError(`--${name} must be an integer from ${min} to ${max} (got ${JSON.stringify(v)})`);
  return n;
}
